"""The three state machines of the cluster tables, as springbatch-py runs them.

The protocol is spring-batch-db-cluster-partitioning's; "CAS" marks a transition that
springbatch-py makes as a compare-and-set (the statement names the state the row must still be
in, and the caller checks that exactly one row moved) where the Java library may not.

Node (``BATCH_NODES.STATUS``; a missing row is the third state)
----------------------------------------------------------------

===========  ===========  ===============  ================================================
from         to           by               when
===========  ===========  ===============  ================================================
(none)       ACTIVE       the node         start-up; again after it finds its row gone
ACTIVE       UNREACHABLE  any node, sweep  heartbeat older than unreachable-node-threshold
UNREACHABLE  ACTIVE       the node         its next heartbeat (every heartbeat-interval)
UNREACHABLE  (none)       any node, sweep  heartbeat older than node-cleanup-threshold
ACTIVE       (none)       the node         graceful shutdown, after draining
===========  ===========  ===============  ================================================

A node's own view: ACTIVE after a successful heartbeat; UNREACHABLE after a failed one (it
claims nothing then) or when it finds its row gone (it stops its running partitions, waits for
them, registers again, and takes back the partitions it left CLAIMED).

Coordination (``BATCH_JOB_COORDINATION.STATUS``, one row per job execution)
---------------------------------------------------------------------------

=================  ===========  ===========================  =====================================
from               to           by                           when
=================  ===========  ===========================  =====================================
(none)             CREATED      the master                   after splitting the step
CREATED            STARTED      the master (CAS)             after inserting the partitions
STARTED            COMPLETED    the master (CAS)             no partition PENDING or CLAIMED; a
                                                             master whose job was taken over finds
                                                             0 rows and fails instead of
                                                             overwriting (Java: no guard)
STARTED/RECOVERING RECOVERING   a surviving node (CAS)       the master's node row is gone; the
                                                             row's master becomes the survivor
RECOVERING         ABANDONED    that survivor (CAS)          after failing the job execution and
                                                             its unfinished steps (restartable);
                                                             until then the row stays RECOVERING
                                                             and the survivor's next scans retry
=================  ===========  ===========================  =====================================

Workers only pick up partitions of STARTED rows. A row left CREATED (the master died before
starting) is never recovered, as in Java; its job execution stays as it was.

Partition (``BATCH_PARTITIONS.status``, one row per worker step execution)
--------------------------------------------------------------------------

=================  ===========  ===========================  =====================================
from               to           by                           when
=================  ===========  ===========================  =====================================
(none)             PENDING      the master                   with its assigned node
PENDING            CLAIMED      the assigned node (CAS)      it has a free slot; a claim that moves
                                                             no row is not run (Java runs it)
CLAIMED            COMPLETED    the assigned node (CAS)      its step ended and did not fail
CLAIMED            FAILED       the assigned node (CAS)      its step FAILED (or ended UNKNOWN), or
                                                             its step is not registered there
CLAIMED            PENDING      the assigned node (CAS)      it stopped the partition when it lost
                                                             its heartbeat and is back
PENDING/CLAIMED    PENDING      the master (CAS)             orphan (node row gone, silent for
                   + new node                                node-cleanup-threshold), transferable
PENDING/CLAIMED    FAILED       the master (CAS)             orphan, not transferable; its step
                                                             execution is failed too
PENDING/CLAIMED    FAILED       a lost master's recoverer    before it fails the job: fences the
                                                             workers (no chunk commits after it)
PENDING            FAILED       the master (CAS)             its job is stopping: never claimed,
                                                             its step execution ends STOPPED
=================  ===========  ===========================  =====================================

A running partition refreshes ``last_updated`` every heartbeat-interval, and every write of its
step (each chunk commit, the final saves) first refreshes the row in the same transaction as a
compare-and-set on (node, CLAIMED). So a node that was frozen, evicted and replaced commits
nothing for a partition that moved, and a reassignment waits for a chunk that is committing.
"""
