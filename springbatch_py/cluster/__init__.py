"""The cluster layer: nodes, partitioned steps and failover through the database alone,
speaking spring-batch-db-cluster-partitioning's protocol (2.0.x and 3.x tables and statements).

See :mod:`springbatch_py.cluster.states` for the state machines of nodes, coordination rows and
partitions.
"""

from springbatch_py.cluster.master import (
    ClusterPartitionHandler,
    PartitionsFailedError,
    PartitionStep,
)
from springbatch_py.cluster.node import Node
from springbatch_py.cluster.partitioner import (
    NODE_KEY,
    TRANSFERABLE_KEY,
    AssignmentStrategy,
    ClusterError,
    ClusterPartitioner,
    FixedNodeCount,
    FunctionPartitioner,
    LeastLoaded,
    PartitioningMode,
    RoundRobin,
    strategy_for,
)
from springbatch_py.cluster.runtime import NodeStatus
from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.worker import PartitionLostError, StepRegistry, job_database

__all__ = [
    "NODE_KEY",
    "TRANSFERABLE_KEY",
    "AssignmentStrategy",
    "ClusterError",
    "ClusterPartitionHandler",
    "ClusterPartitioner",
    "ClusterSettings",
    "FixedNodeCount",
    "FunctionPartitioner",
    "LeastLoaded",
    "Node",
    "NodeStatus",
    "PartitionLostError",
    "PartitionStep",
    "PartitioningMode",
    "PartitionsFailedError",
    "RoundRobin",
    "StepRegistry",
    "job_database",
    "strategy_for",
]
