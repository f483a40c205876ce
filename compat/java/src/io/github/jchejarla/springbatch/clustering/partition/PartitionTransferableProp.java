package io.github.jchejarla.springbatch.clustering.partition;

/**
 * Stand-in for the cluster library's enum of the same name. Java serialization of an enum
 * constant carries only the class name and the constant name, so a map holding one of these
 * serializes to exactly the bytes the real library produces.
 */
public enum PartitionTransferableProp {
    YES,
    NO
}
