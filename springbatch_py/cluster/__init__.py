"""The cluster layer: nodes, partitioned steps and failover through the database alone,
speaking spring-batch-db-cluster-partitioning's protocol (2.0.x and 3.x tables and statements).

See :mod:`springbatch_py.cluster.states` for the state machines of nodes, coordination rows and
partitions.
"""

from springbatch_py.cluster.errors import ClusterError, PartitionLostError, PartitionsFailedError
from springbatch_py.cluster.master import ClusterPartitionHandler, PartitionStep
from springbatch_py.cluster.node import Node
from springbatch_py.cluster.partitioner import (
    NODE_KEY,
    TRANSFERABLE_KEY,
    AssignmentStrategy,
    ClusterPartitioner,
    FixedNodeCount,
    FunctionPartitioner,
    LeastLoaded,
    PartitioningMode,
    RoundRobin,
    strategy_for,
)
from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.cluster.states import (
    CoordinationStatus,
    IllegalTransitionError,
    NodeStatus,
    PartitionStatus,
)
from springbatch_py.cluster.worker import StepRegistry, job_database

__all__ = [
    "NODE_KEY",
    "TRANSFERABLE_KEY",
    "AssignmentStrategy",
    "ClusterError",
    "ClusterPartitionHandler",
    "ClusterPartitioner",
    "ClusterSettings",
    "CoordinationStatus",
    "FixedNodeCount",
    "FunctionPartitioner",
    "IllegalTransitionError",
    "LeastLoaded",
    "Node",
    "NodeStatus",
    "PartitionLostError",
    "PartitionStatus",
    "PartitionStep",
    "PartitioningMode",
    "PartitionsFailedError",
    "RoundRobin",
    "StepRegistry",
    "job_database",
    "strategy_for",
]
