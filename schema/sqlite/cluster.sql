-- Cluster tables of spring-batch-db-cluster-partitioning, 3.x layout (SQLite).
-- The 3.x layout is a superset of 2.0.x: it adds BATCH_JOB_PHASE_EVENTS and the three indexes, names
-- the coordination foreign key JOB_COORD_FK and checks is_transferable IN (0, 1). 2.0.x nodes never
-- touch the additions, so one database serves both protocols.
-- The Java library does not support SQLite; this layout is ours. Timestamps are INTEGER epoch
-- milliseconds like the Spring Batch tables on SQLite, so the database clock gives millisecond ages.

CREATE TABLE BATCH_NODES (
    NODE_ID VARCHAR(200) NOT NULL PRIMARY KEY,
    CREATED_TIME TIMESTAMP NOT NULL,
    LAST_UPDATED_TIME TIMESTAMP NOT NULL,
    STATUS VARCHAR(20) NOT NULL,
    HOST_IDENTIFIER VARCHAR(200),
    CURRENT_LOAD INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE BATCH_JOB_COORDINATION (
    JOB_EXECUTION_ID INTEGER NOT NULL PRIMARY KEY,
    MASTER_NODE_ID VARCHAR(200) NOT NULL,
    MASTER_STEP_EXECUTION_ID INTEGER NOT NULL,
    MASTER_STEP_NAME VARCHAR(100) NOT NULL,
    STATUS VARCHAR(20) NOT NULL,
    CREATED_TIME TIMESTAMP NOT NULL,
    LAST_UPDATED TIMESTAMP NOT NULL,
    CONSTRAINT JOB_COORD_FK FOREIGN KEY (JOB_EXECUTION_ID)
        REFERENCES BATCH_JOB_EXECUTION (JOB_EXECUTION_ID)
);

CREATE TABLE BATCH_PARTITIONS (
    step_execution_id INTEGER NOT NULL PRIMARY KEY,
    job_execution_id INTEGER NOT NULL,
    partition_key VARCHAR(100) NOT NULL,
    assigned_node VARCHAR(100),
    status VARCHAR(20) NOT NULL CHECK (status IN ('PENDING', 'CLAIMED', 'COMPLETED', 'FAILED')),
    last_updated TIMESTAMP DEFAULT (CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)),
    master_step_execution_id INTEGER NOT NULL,
    is_transferable INTEGER DEFAULT 0,
    CHECK (is_transferable IN (0, 1)),
    CONSTRAINT BAT_PART_FK FOREIGN KEY (step_execution_id)
        REFERENCES BATCH_STEP_EXECUTION (STEP_EXECUTION_ID)
        ON DELETE CASCADE
);

CREATE INDEX IDX_BATCH_PART_NODE_STATUS ON BATCH_PARTITIONS (assigned_node, status);
CREATE INDEX IDX_BATCH_PART_MASTER_STATUS ON BATCH_PARTITIONS (master_step_execution_id, status);

-- Phase-timing events (3.x, written only when capture-phase-timings is on). No foreign key on
-- purpose: the audit trail may outlive the job execution row.
CREATE TABLE BATCH_JOB_PHASE_EVENTS (
    JOB_EXECUTION_ID INTEGER NOT NULL,
    NODE_ID VARCHAR(200) NOT NULL,
    PHASE VARCHAR(40) NOT NULL,
    EVENT_TIME TIMESTAMP NOT NULL
);

CREATE INDEX IDX_BATCH_PHASE_EVENTS_JOB ON BATCH_JOB_PHASE_EVENTS (JOB_EXECUTION_ID);
