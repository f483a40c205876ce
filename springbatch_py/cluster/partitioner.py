"""Cluster-aware partitioning: split a step's work for the live nodes and assign each part.

The partitioner is told how many nodes are ACTIVE, creates that many (or any number of) partition
contexts, and a strategy assigns each to a node. Each context then carries the two keys the Java
library reads, with its exact Java types: the node id (a ``String``) and whether the partition
may move to another node when its node is lost (the ``PartitionTransferableProp`` enum).
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from springbatch_py.cluster.errors import ClusterError
from springbatch_py.cluster.store import ActiveNode
from springbatch_py.core.context import ExecutionContext
from springbatch_py.java.types import PARTITION_TRANSFERABLE_PROP, JavaEnum

#: Context key of the node a partition is assigned to (a String).
NODE_KEY = "AppUse_Cluster-Node-Identifier"
#: Context key of the transferable flag (a PartitionTransferableProp enum constant).
TRANSFERABLE_KEY = "AppUse_Is-Transferable-Identifier"


def transferable_flag(transferable: bool) -> JavaEnum:
    """The enum constant Java stores for the transferable flag."""
    return JavaEnum(PARTITION_TRANSFERABLE_PROP, "YES" if transferable else "NO")


def is_transferable(context: Mapping[str, Any]) -> bool:
    """Whether a partition context says it may move (Java: only ``YES`` does)."""
    flag = context.get(TRANSFERABLE_KEY)
    return isinstance(flag, JavaEnum) and flag.name == "YES"


class AssignmentStrategy(Protocol):
    """Chooses a node for each of ``count`` partitions, from the ACTIVE nodes (least loaded
    first)."""

    def assign(self, count: int, nodes: Sequence[ActiveNode]) -> list[str]: ...


class RoundRobin:
    """Partition ``i`` goes to node ``i mod n``."""

    def assign(self, count: int, nodes: Sequence[ActiveNode]) -> list[str]:
        """Node ids, one per partition."""
        return [nodes[i % len(nodes)].node_id for i in range(count)]


class FixedNodeCount:
    """Only the ``node_count`` least-loaded nodes take work, round robin among them."""

    def __init__(self, node_count: int) -> None:
        # The Java library turns a count of 0 into 1.
        self.node_count = max(1, node_count)

    def assign(self, count: int, nodes: Sequence[ActiveNode]) -> list[str]:
        """Node ids, one per partition."""
        chosen = nodes[: min(self.node_count, len(nodes))]
        return [chosen[i % len(chosen)].node_id for i in range(count)]


class LeastLoaded:
    """Each partition goes to the node with the least running load so far (ties: earlier in
    the least-loaded order), whose load then grows by one."""

    def assign(self, count: int, nodes: Sequence[ActiveNode]) -> list[str]:
        """Node ids, one per partition."""
        loads = [n.current_load for n in nodes]
        result = []
        for _ in range(count):
            best = min(range(len(nodes)), key=lambda i: (loads[i], i))
            loads[best] += 1
            result.append(nodes[best].node_id)
        return result


class PartitioningMode(enum.Enum):
    """The Java library's modes (``SCALE_UP`` of 2.x is round robin)."""

    ROUND_ROBIN = "ROUND_ROBIN"
    FIXED_NODE_COUNT = "FIXED_NODE_COUNT"
    LEAST_LOADED = "LEAST_LOADED"
    SCALE_UP = "SCALE_UP"


def strategy_for(mode: PartitioningMode | str, fixed_node_count: int = 0) -> AssignmentStrategy:
    """The strategy of a Java partitioning mode."""
    mode = PartitioningMode(mode) if isinstance(mode, str) else mode
    if mode is PartitioningMode.FIXED_NODE_COUNT:
        return FixedNodeCount(fixed_node_count)
    if mode is PartitioningMode.LEAST_LOADED:
        return LeastLoaded()
    return RoundRobin()


class ClusterPartitioner(ABC):
    """Splits a partitioned step's work (Java's ``ClusterAwarePartitioner``).

    Parameters
    ----------
    strategy:
        How partitions are assigned to nodes (default round robin); any object with
        ``assign(count, nodes) -> list[node_id]`` works.
    transferable:
        Whether a partition may run on another node when its node is lost.
    """

    def __init__(
        self, *, strategy: AssignmentStrategy | None = None, transferable: bool = True
    ) -> None:
        self.strategy = strategy or RoundRobin()
        self.transferable = transferable

    @abstractmethod
    def create_partitions(self, node_count: int) -> Sequence[Mapping[str, Any]]:
        """The partitions' own contexts (e.g. ranges), given the number of ACTIVE nodes.

        Must be deterministic for a restart to find the same partitions again.
        """

    def partition(self, nodes: Sequence[ActiveNode]) -> dict[str, ExecutionContext]:
        """Partition contexts keyed ``"0"``, ``"1"``, ... with node and transferable keys."""
        if not nodes:
            raise ClusterError("no ACTIVE node is registered: cannot assign partitions")
        contexts = list(self.create_partitions(len(nodes)))
        assigned = self.strategy.assign(len(contexts), nodes)
        if len(assigned) != len(contexts):
            raise ClusterError(
                f"the assignment strategy gave {len(assigned)} nodes for {len(contexts)} partitions"
            )
        known = {n.node_id for n in nodes}
        result = {}
        for index, (values, node_id) in enumerate(zip(contexts, assigned, strict=True)):
            if node_id not in known:
                raise ClusterError(f"the assignment strategy chose an unknown node {node_id!r}")
            context = ExecutionContext(values)
            context[NODE_KEY] = node_id
            context[TRANSFERABLE_KEY] = transferable_flag(self.transferable)
            result[str(index)] = context
        return result


class FunctionPartitioner(ClusterPartitioner):
    """A partitioner from a function ``node_count -> [context, ...]``."""

    def __init__(
        self,
        create: Callable[[int], Sequence[Mapping[str, Any]]],
        *,
        strategy: AssignmentStrategy | None = None,
        transferable: bool = True,
    ) -> None:
        super().__init__(strategy=strategy, transferable=transferable)
        self._create = create

    def create_partitions(self, node_count: int) -> Sequence[Mapping[str, Any]]:
        """The function's partitions."""
        return self._create(node_count)
