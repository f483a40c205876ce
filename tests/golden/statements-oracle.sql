-- The named statements springbatch-py runs on Oracle (dialect oracle), by name.
-- :name is a bound parameter; {generator} is a generator name, filled in when the statement runs.

-- name: clock_now
-- The database clock as a naive timestamp of the session time zone.
-- from: dialects/oracle/clock.sql
SELECT LOCALTIMESTAMP FROM DUAL;

-- name: clock_session_zone
-- The session time zone, as the server names it.
-- from: dialects/oracle/clock.sql
SELECT SESSIONTIMEZONE FROM DUAL;

-- name: coordination_claim_orphaned
-- C4: take over a lost master's job; exactly one row means this node won.
-- from: dialects/common/cluster.sql
UPDATE BATCH_JOB_COORDINATION SET STATUS = 'RECOVERING', MASTER_NODE_ID = :node_id, LAST_UPDATED = :now
WHERE JOB_EXECUTION_ID = :job_execution_id AND MASTER_NODE_ID = :lost_node_id
  AND STATUS IN ('STARTED', 'RECOVERING');

-- name: coordination_delete
-- Delete a job execution's coordination row (its foreign key blocks deleting the job execution).
-- from: dialects/common/cluster.sql
DELETE FROM BATCH_JOB_COORDINATION WHERE JOB_EXECUTION_ID = :job_execution_id;

-- name: coordination_find_orphaned
-- C3: STARTED or RECOVERING jobs whose master node row is gone.
-- from: dialects/common/cluster.sql
SELECT BC.JOB_EXECUTION_ID, BC.MASTER_NODE_ID, BC.MASTER_STEP_EXECUTION_ID, BC.MASTER_STEP_NAME
FROM BATCH_JOB_COORDINATION BC
WHERE BC.STATUS IN ('STARTED', 'RECOVERING')
  AND NOT EXISTS (SELECT 1 FROM BATCH_NODES BN WHERE BN.NODE_ID = BC.MASTER_NODE_ID);

-- name: coordination_find_recovering
-- Jobs this node claimed for recovery and has not finished recovering (retried every scan).
-- from: dialects/common/cluster.sql
SELECT JOB_EXECUTION_ID, MASTER_NODE_ID, MASTER_STEP_EXECUTION_ID, MASTER_STEP_NAME
FROM BATCH_JOB_COORDINATION WHERE STATUS = 'RECOVERING' AND MASTER_NODE_ID = :node_id;

-- name: coordination_get
-- The coordination row of a job execution.
-- from: dialects/common/cluster.sql
SELECT JOB_EXECUTION_ID, MASTER_NODE_ID, MASTER_STEP_EXECUTION_ID, MASTER_STEP_NAME, STATUS, CREATED_TIME,
       LAST_UPDATED
FROM BATCH_JOB_COORDINATION WHERE JOB_EXECUTION_ID = :job_execution_id;

-- name: coordination_insert
-- C1: the master records itself for a partitioned step (status CREATED).
-- from: dialects/common/cluster.sql
INSERT INTO BATCH_JOB_COORDINATION (JOB_EXECUTION_ID, MASTER_NODE_ID, MASTER_STEP_EXECUTION_ID, MASTER_STEP_NAME, STATUS,
    CREATED_TIME, LAST_UPDATED)
VALUES (:job_execution_id, :master_node_id, :master_step_execution_id, :master_step_name, 'CREATED',
    :now, :now);

-- name: coordination_list
-- Coordinated jobs, newest first.
-- from: dialects/common/cluster.sql
SELECT JOB_EXECUTION_ID, MASTER_NODE_ID, MASTER_STEP_EXECUTION_ID, MASTER_STEP_NAME, STATUS, CREATED_TIME,
       LAST_UPDATED
FROM BATCH_JOB_COORDINATION ORDER BY CREATED_TIME DESC, JOB_EXECUTION_ID DESC;

-- name: coordination_transition
-- C2 as compare-and-set: move the row from one status to another, owned by this master.
-- from: dialects/common/cluster.sql
UPDATE BATCH_JOB_COORDINATION SET STATUS = :status, LAST_UPDATED = :now
WHERE JOB_EXECUTION_ID = :job_execution_id AND MASTER_STEP_EXECUTION_ID = :master_step_execution_id
  AND MASTER_NODE_ID = :master_node_id AND STATUS = :expected_status;

-- name: id_next_sequence
-- Draw the next id from the sequence {generator}.
-- from: dialects/oracle/ids.sql
SELECT {generator}.NEXTVAL FROM DUAL;

-- name: id_next_table
-- Draw the next id from a generator table.
-- from: dialects/oracle/ids.sql
-- not supported: Oracle generators are sequences.

-- name: node_delete_unreachable
-- N4: UNREACHABLE nodes silent for the cleanup threshold are removed.
-- from: dialects/common/cluster.sql
DELETE FROM BATCH_NODES
WHERE STATUS = 'UNREACHABLE' AND ((CAST(SYSTIMESTAMP AS DATE) - CAST(LAST_UPDATED_TIME AS DATE)) * 24 * 60 * 60 * 1000) >= :threshold_ms;

-- name: node_deregister
-- Remove this node's row when it shuts down gracefully.
-- from: dialects/common/cluster.sql
DELETE FROM BATCH_NODES WHERE NODE_ID = :node_id;

-- name: node_heartbeat
-- N2: heartbeat: refresh the time, ACTIVE again, the current load; 0 rows means evicted.
-- from: dialects/common/cluster.sql
UPDATE BATCH_NODES SET LAST_UPDATED_TIME = SYSTIMESTAMP, STATUS = 'ACTIVE', CURRENT_LOAD = :current_load
WHERE NODE_ID = :node_id;

-- name: node_list_active
-- N5: ACTIVE nodes, least loaded first (ties by id, for a stable order).
-- from: dialects/common/cluster.sql
SELECT NODE_ID, CURRENT_LOAD FROM BATCH_NODES WHERE STATUS = 'ACTIVE' ORDER BY CURRENT_LOAD, NODE_ID;

-- name: node_list_all
-- N6: every node row, with the age of its heartbeat in milliseconds.
-- from: dialects/common/cluster.sql
SELECT NODE_ID, CREATED_TIME, LAST_UPDATED_TIME, STATUS, HOST_IDENTIFIER, CURRENT_LOAD,
       ((CAST(SYSTIMESTAMP AS DATE) - CAST(LAST_UPDATED_TIME AS DATE)) * 24 * 60 * 60 * 1000) AS HEARTBEAT_AGE_MS
FROM BATCH_NODES ORDER BY NODE_ID;

-- name: node_list_sweep
-- N6 for a sweep: this node's row, the rows silent for :threshold_ms or more, those whose heartbeat lies :future_ms or more ahead of the clock (another time zone), and how many rows there are.
-- from: dialects/common/cluster.sql
SELECT NODE_ID, CREATED_TIME, LAST_UPDATED_TIME, STATUS, HOST_IDENTIFIER, CURRENT_LOAD,
       ((CAST(SYSTIMESTAMP AS DATE) - CAST(LAST_UPDATED_TIME AS DATE)) * 24 * 60 * 60 * 1000) AS HEARTBEAT_AGE_MS,
       (SELECT COUNT(*) FROM BATCH_NODES) AS NODE_COUNT
FROM BATCH_NODES
WHERE NODE_ID = :node_id OR ((CAST(SYSTIMESTAMP AS DATE) - CAST(LAST_UPDATED_TIME AS DATE)) * 24 * 60 * 60 * 1000) >= :threshold_ms
   OR ((CAST(SYSTIMESTAMP AS DATE) - CAST(LAST_UPDATED_TIME AS DATE)) * 24 * 60 * 60 * 1000) <= :future_age_ms
ORDER BY NODE_ID;

-- name: node_mark_unreachable
-- N3: ACTIVE nodes silent for the threshold become UNREACHABLE.
-- from: dialects/common/cluster.sql
UPDATE BATCH_NODES SET STATUS = 'UNREACHABLE'
WHERE STATUS = 'ACTIVE' AND ((CAST(SYSTIMESTAMP AS DATE) - CAST(LAST_UPDATED_TIME AS DATE)) * 24 * 60 * 60 * 1000) >= :threshold_ms;

-- name: node_register
-- N1: register this node as ACTIVE, on the database clock.
-- from: dialects/common/cluster.sql
INSERT INTO BATCH_NODES (NODE_ID, CREATED_TIME, LAST_UPDATED_TIME, STATUS, HOST_IDENTIFIER, CURRENT_LOAD)
VALUES (:node_id, SYSTIMESTAMP, SYSTIMESTAMP, 'ACTIVE', :host_identifier, 0);

-- name: partition_claim_assigned
-- P2 and P3 in one statement: claim up to :limit PENDING partitions of this node whose job is STARTED and whose master's row exists, skipping rows another transaction holds, and return them.
-- from: dialects/common/cluster.sql
-- not supported: without SKIP LOCKED and UPDATE ... RETURNING, a worker reads (partition_fetch_assigned) and claims each partition by compare-and-set (partition_transition).

-- name: partition_count_by_status
-- Partitions per job execution and status, for the observability views and metrics.
-- from: dialects/common/cluster.sql
SELECT JOB_EXECUTION_ID, STATUS, COUNT(*) AS PARTITION_COUNT
FROM BATCH_PARTITIONS GROUP BY JOB_EXECUTION_ID, STATUS ORDER BY JOB_EXECUTION_ID, STATUS;

-- name: partition_count_failed
-- P6: partitions of a master step that FAILED.
-- from: dialects/common/cluster.sql
SELECT COUNT(*) FROM BATCH_PARTITIONS WHERE MASTER_STEP_EXECUTION_ID = :master_step_execution_id AND STATUS = 'FAILED';

-- name: partition_count_open
-- P5: partitions of a master step still PENDING or CLAIMED.
-- from: dialects/common/cluster.sql
SELECT COUNT(*) FROM BATCH_PARTITIONS
WHERE MASTER_STEP_EXECUTION_ID = :master_step_execution_id AND STATUS IN ('PENDING', 'CLAIMED');

-- name: partition_end
-- P3 that ends a partition: this node's CLAIMED partition to :status (COMPLETED or FAILED), compare-and-set; where the database notifies, its master is notified in the same statement.
-- from: dialects/common/cluster.sql
UPDATE BATCH_PARTITIONS SET STATUS = :status, LAST_UPDATED = SYSTIMESTAMP
WHERE STEP_EXECUTION_ID = :step_execution_id AND JOB_EXECUTION_ID = :job_execution_id
  AND MASTER_STEP_EXECUTION_ID = :master_step_execution_id AND ASSIGNED_NODE = :node_id
  AND STATUS = 'CLAIMED';

-- name: partition_fail_open_of_master
-- Recovery of a lost master's job: its open partitions end FAILED, so that no worker commits
-- from: dialects/common/cluster.sql
UPDATE BATCH_PARTITIONS SET STATUS = 'FAILED', LAST_UPDATED = SYSTIMESTAMP
WHERE MASTER_STEP_EXECUTION_ID = :master_step_execution_id AND STATUS IN ('PENDING', 'CLAIMED');

-- name: partition_fail_orphan
-- A non-transferable orphan ends FAILED, only from the status and node it was seen with.
-- from: dialects/oracle/cluster.sql
SELECT STEP_EXECUTION_ID FROM BATCH_PARTITIONS WHERE STEP_EXECUTION_ID = :step_execution_id FOR UPDATE WAIT 1;
UPDATE BATCH_PARTITIONS SET STATUS = 'FAILED', LAST_UPDATED = SYSTIMESTAMP
WHERE STEP_EXECUTION_ID = :step_execution_id AND MASTER_STEP_EXECUTION_ID = :master_step_execution_id
  AND STATUS = :expected_status AND COALESCE(ASSIGNED_NODE, '~') = :old_node_id;

-- name: partition_fetch_assigned
-- P2: PENDING partitions assigned to this node whose job is STARTED and whose master's row exists.
-- from: dialects/common/cluster.sql
SELECT BP.STEP_EXECUTION_ID, BP.JOB_EXECUTION_ID, BP.PARTITION_KEY, BP.MASTER_STEP_EXECUTION_ID,
       BP.IS_TRANSFERABLE, BC.MASTER_STEP_NAME
FROM BATCH_PARTITIONS BP, BATCH_JOB_COORDINATION BC, BATCH_NODES BN
WHERE BP.MASTER_STEP_EXECUTION_ID = BC.MASTER_STEP_EXECUTION_ID
  AND BC.MASTER_NODE_ID = BN.NODE_ID
  AND BP.ASSIGNED_NODE = :node_id AND BP.STATUS = 'PENDING' AND BC.STATUS = 'STARTED'
ORDER BY BP.STEP_EXECUTION_ID
FETCH FIRST :limit ROWS ONLY;

-- name: partition_find_orphaned
-- P7: open partitions silent for the threshold whose node row is gone (or that have no node).
-- from: dialects/common/cluster.sql
SELECT BP.STEP_EXECUTION_ID, BP.JOB_EXECUTION_ID, BP.PARTITION_KEY, BP.MASTER_STEP_EXECUTION_ID,
       BP.IS_TRANSFERABLE, BP.ASSIGNED_NODE, BP.STATUS
FROM BATCH_PARTITIONS BP
WHERE BP.MASTER_STEP_EXECUTION_ID = :master_step_execution_id
  AND BP.STATUS IN ('PENDING', 'CLAIMED')
  AND ((CAST(SYSTIMESTAMP AS DATE) - CAST(BP.LAST_UPDATED AS DATE)) * 24 * 60 * 60 * 1000) >= :threshold_ms
  AND NOT EXISTS (SELECT 1 FROM BATCH_NODES BN WHERE BN.NODE_ID = BP.ASSIGNED_NODE)
ORDER BY BP.STEP_EXECUTION_ID;

-- name: partition_insert
-- P1: a partition, PENDING on its assigned node; last_updated takes the column default (database clock).
-- from: dialects/common/cluster.sql
INSERT INTO BATCH_PARTITIONS (step_execution_id, job_execution_id, partition_key, assigned_node, status,
    master_step_execution_id, is_transferable)
VALUES (:step_execution_id, :job_execution_id, :partition_key, :assigned_node, 'PENDING',
    :master_step_execution_id, :is_transferable);

-- name: partition_list
-- The partitions of a master step with their node, status and heartbeat age.
-- from: dialects/common/cluster.sql
SELECT STEP_EXECUTION_ID, JOB_EXECUTION_ID, PARTITION_KEY, ASSIGNED_NODE, STATUS, MASTER_STEP_EXECUTION_ID,
       IS_TRANSFERABLE, ((CAST(SYSTIMESTAMP AS DATE) - CAST(LAST_UPDATED AS DATE)) * 24 * 60 * 60 * 1000) AS AGE_MS
FROM BATCH_PARTITIONS WHERE MASTER_STEP_EXECUTION_ID = :master_step_execution_id ORDER BY STEP_EXECUTION_ID;

-- name: partition_list_claimed
-- The partitions CLAIMED by this node: after a claim whose answer was lost, the worker finds those it claimed but does not run.
-- from: dialects/common/cluster.sql
SELECT STEP_EXECUTION_ID, JOB_EXECUTION_ID, PARTITION_KEY, MASTER_STEP_EXECUTION_ID, IS_TRANSFERABLE
FROM BATCH_PARTITIONS WHERE ASSIGNED_NODE = :node_id AND STATUS = 'CLAIMED' ORDER BY STEP_EXECUTION_ID;

-- name: partition_reassign
-- P8 as compare-and-set: an orphan goes back to PENDING on another node, only from the node and status it was seen with ('~' stands for no node).
-- from: dialects/oracle/cluster.sql
SELECT STEP_EXECUTION_ID FROM BATCH_PARTITIONS WHERE STEP_EXECUTION_ID = :step_execution_id FOR UPDATE WAIT 1;
UPDATE BATCH_PARTITIONS SET ASSIGNED_NODE = :new_node_id, LAST_UPDATED = SYSTIMESTAMP, STATUS = 'PENDING'
WHERE JOB_EXECUTION_ID = :job_execution_id AND MASTER_STEP_EXECUTION_ID = :master_step_execution_id
  AND STEP_EXECUTION_ID = :step_execution_id AND STATUS = :expected_status
  AND COALESCE(ASSIGNED_NODE, '~') = :old_node_id;

-- name: partition_refresh
-- P4: a running partition's liveness; 0 rows means it is no longer this node's claim.
-- from: dialects/common/cluster.sql
UPDATE BATCH_PARTITIONS SET LAST_UPDATED = SYSTIMESTAMP
WHERE STEP_EXECUTION_ID = :step_execution_id AND ASSIGNED_NODE = :node_id AND STATUS = 'CLAIMED';

-- name: partition_transition
-- P3 as compare-and-set: move a partition of this node from one status to another.
-- from: dialects/common/cluster.sql
UPDATE BATCH_PARTITIONS SET STATUS = :status, LAST_UPDATED = SYSTIMESTAMP
WHERE STEP_EXECUTION_ID = :step_execution_id AND JOB_EXECUTION_ID = :job_execution_id
  AND MASTER_STEP_EXECUTION_ID = :master_step_execution_id AND ASSIGNED_NODE = :node_id
  AND STATUS = :expected_status;

-- name: phase_event_insert
-- E1: a phase-timing event of a job, on the database clock.
-- from: dialects/common/cluster.sql
INSERT INTO BATCH_JOB_PHASE_EVENTS (JOB_EXECUTION_ID, NODE_ID, PHASE, EVENT_TIME)
VALUES (:job_execution_id, :node_id, :phase, SYSTIMESTAMP);
