package springbatch.compat;

/** A second enum, for serialization tests. */
public enum Color {
    RED,
    GREEN,
    BLUE
}
