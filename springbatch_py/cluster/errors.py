"""The errors the cluster layer raises.

:class:`ClusterError` and its subclasses say the cluster cannot do what was asked;
:class:`RowLockedError` and :class:`RecoveryIncompleteError` are transient: the work is tried
again later. The modules that raise them import them from here.
"""

from __future__ import annotations

from springbatch_py.errors import SpringBatchError


class ClusterError(SpringBatchError):
    """The cluster cannot do what was asked (no live node, a lost claim, ...)."""


class PartitionsFailedError(ClusterError):
    """Some partitions of a partitioned step did not complete."""


class CoordinationLostError(ClusterError):
    """The master's job was recovered by another node (its coordination is no longer its own)."""


class PartitionLostError(ClusterError):
    """This node no longer holds the partition's claim: its work is not committed."""


class GaveUpError(ClusterError):
    """A write that had to land was abandoned: the node is stopping."""


class RowLockedError(SpringBatchError):
    """A cluster row stayed locked by another transaction for the store's bounded lock wait."""


class CompareAndSetError(SpringBatchError):
    """A compare-and-set moved more than one row: the table lacks its primary key, or the
    statement its key columns."""


class RecoveryIncompleteError(SpringBatchError):
    """The execution kept changing while it was being failed; try again."""
