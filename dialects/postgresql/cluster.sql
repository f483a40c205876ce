-- PostgreSQL's own versions of common cluster statements (dialects/common/cluster.sql).

-- name: partition_claim_assigned
-- P2 and P3 in one statement: claim up to :limit PENDING partitions of this node whose job is STARTED and whose master's row exists, skipping rows another transaction holds, and return them.
-- "picked" locks the partitions it chooses, once (SKIP LOCKED: a row another transaction holds
-- is left for a later poll, never waited for); the UPDATE still names this node and PENDING,
-- so each returned row is one compare-and-set won.
WITH picked AS (
    SELECT BP.STEP_EXECUTION_ID
    FROM {{table(BATCH_PARTITIONS)}} BP, {{table(BATCH_JOB_COORDINATION)}} BC, {{table(BATCH_NODES)}} BN
    WHERE BP.MASTER_STEP_EXECUTION_ID = BC.MASTER_STEP_EXECUTION_ID
      AND BC.MASTER_NODE_ID = BN.NODE_ID
      AND BP.ASSIGNED_NODE = :node_id AND BP.STATUS = 'PENDING' AND BC.STATUS = 'STARTED'
    ORDER BY BP.STEP_EXECUTION_ID
    LIMIT :limit
    FOR UPDATE OF BP SKIP LOCKED
), claimed AS (
    UPDATE {{table(BATCH_PARTITIONS)}} P SET STATUS = 'CLAIMED', LAST_UPDATED = {{now}}
    FROM picked
    WHERE P.STEP_EXECUTION_ID = picked.STEP_EXECUTION_ID
      AND P.ASSIGNED_NODE = :node_id AND P.STATUS = 'PENDING'
    RETURNING P.STEP_EXECUTION_ID, P.JOB_EXECUTION_ID, P.PARTITION_KEY, P.MASTER_STEP_EXECUTION_ID,
        P.IS_TRANSFERABLE
)
SELECT C.STEP_EXECUTION_ID, C.JOB_EXECUTION_ID, C.PARTITION_KEY, C.MASTER_STEP_EXECUTION_ID,
       C.IS_TRANSFERABLE, BC.MASTER_STEP_NAME
FROM claimed C, {{table(BATCH_JOB_COORDINATION)}} BC
WHERE BC.MASTER_STEP_EXECUTION_ID = C.MASTER_STEP_EXECUTION_ID
ORDER BY C.STEP_EXECUTION_ID;

-- name: partition_end
-- P3 that ends a partition: this node's CLAIMED partition to :status (COMPLETED or FAILED), compare-and-set; where the database notifies, its master is notified in the same statement.
-- One round trip: the row moved (one row returned, and its master notified at commit) or not.
WITH moved AS (
    UPDATE {{table(BATCH_PARTITIONS)}} SET STATUS = :status, LAST_UPDATED = {{now}}
    WHERE STEP_EXECUTION_ID = :step_execution_id AND JOB_EXECUTION_ID = :job_execution_id
      AND MASTER_STEP_EXECUTION_ID = :master_step_execution_id AND ASSIGNED_NODE = :node_id
      AND STATUS = 'CLAIMED'
    RETURNING MASTER_STEP_EXECUTION_ID
)
SELECT M.MASTER_STEP_EXECUTION_ID, pg_notify(:channel, :payload) AS NOTIFIED FROM moved M;
