-- Oracle's own versions of common cluster statements (dialects/common/cluster.sql).
-- An UPDATE waits for a row lock without bound in Oracle (lock_timeout_sql has nothing to set
-- there): these writes lock their row first, waiting at most a second (ORA-30006), so that a
-- node frozen inside its fence cannot stall the master.

-- name: partition_reassign
-- P8 as compare-and-set: an orphan goes back to PENDING on another node, only from the node and status it was seen with ('~' stands for no node).
SELECT STEP_EXECUTION_ID FROM BATCH_PARTITIONS WHERE STEP_EXECUTION_ID = :step_execution_id FOR UPDATE WAIT 1;
UPDATE BATCH_PARTITIONS SET ASSIGNED_NODE = :new_node_id, LAST_UPDATED = {{now}}, STATUS = 'PENDING'
WHERE JOB_EXECUTION_ID = :job_execution_id AND MASTER_STEP_EXECUTION_ID = :master_step_execution_id
  AND STEP_EXECUTION_ID = :step_execution_id AND STATUS = :expected_status
  AND COALESCE(ASSIGNED_NODE, '~') = :old_node_id;

-- name: partition_fail_orphan
-- A non-transferable orphan ends FAILED, only from the status and node it was seen with.
SELECT STEP_EXECUTION_ID FROM BATCH_PARTITIONS WHERE STEP_EXECUTION_ID = :step_execution_id FOR UPDATE WAIT 1;
UPDATE BATCH_PARTITIONS SET STATUS = 'FAILED', LAST_UPDATED = {{now}}
WHERE STEP_EXECUTION_ID = :step_execution_id AND MASTER_STEP_EXECUTION_ID = :master_step_execution_id
  AND STATUS = :expected_status AND COALESCE(ASSIGNED_NODE, '~') = :old_node_id;
