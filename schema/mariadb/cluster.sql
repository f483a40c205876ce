-- Cluster tables of spring-batch-db-cluster-partitioning, 3.x layout (MariaDB).
-- The 3.x layout is a superset of 2.0.x: it adds BATCH_JOB_PHASE_EVENTS and the three indexes, names
-- the coordination foreign key JOB_COORD_FK and checks is_transferable IN (0, 1). 2.0.x nodes never
-- touch the additions, so one database serves both protocols.
-- Cluster table names are lower case: the coordination statements spell them in lower case, and
-- MySQL/MariaDB compare table names case-sensitively on Linux (lower_case_table_names=0). The 2.0.x
-- DDL used upper case here, which its own queries could not find. Spring Batch's tables stay upper
-- case, so the foreign keys reference BATCH_JOB_EXECUTION / BATCH_STEP_EXECUTION.
-- TIMESTAMP(3) columns hold milliseconds where the Java DDL's TIMESTAMP holds whole seconds, so
-- heartbeat ages resolve milliseconds; the library's statements work unchanged on them (schema
-- verify warns about whole-second columns). With explicit_defaults_for_timestamp=OFF the server
-- would give CREATED_TIME an ON UPDATE clause (schema verify reports it).

CREATE TABLE batch_nodes (
    NODE_ID VARCHAR(200) NOT NULL PRIMARY KEY,
    CREATED_TIME TIMESTAMP(3) NOT NULL,
    LAST_UPDATED_TIME TIMESTAMP(3) NOT NULL,
    STATUS VARCHAR(20) NOT NULL,
    HOST_IDENTIFIER VARCHAR(200),
    CURRENT_LOAD BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB;

CREATE TABLE batch_job_coordination (
    JOB_EXECUTION_ID BIGINT PRIMARY KEY,
    MASTER_NODE_ID VARCHAR(200) NOT NULL,
    MASTER_STEP_EXECUTION_ID BIGINT NOT NULL,
    MASTER_STEP_NAME VARCHAR(100) NOT NULL,
    STATUS VARCHAR(20) NOT NULL,
    CREATED_TIME TIMESTAMP(3) NOT NULL,
    LAST_UPDATED TIMESTAMP(3) NOT NULL,
    CONSTRAINT JOB_COORD_FK FOREIGN KEY (JOB_EXECUTION_ID)
        REFERENCES BATCH_JOB_EXECUTION (JOB_EXECUTION_ID)
) ENGINE=InnoDB;

CREATE TABLE batch_partitions (
    step_execution_id BIGINT PRIMARY KEY,
    job_execution_id BIGINT NOT NULL,
    partition_key VARCHAR(100) NOT NULL,
    assigned_node VARCHAR(100),
    status VARCHAR(20) NOT NULL CHECK (status IN ('PENDING', 'CLAIMED', 'COMPLETED', 'FAILED')),
    last_updated TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3),
    master_step_execution_id BIGINT NOT NULL,
    is_transferable SMALLINT DEFAULT 0,
    CHECK (is_transferable IN (0, 1)),
    CONSTRAINT BAT_PART_FK FOREIGN KEY (step_execution_id)
        REFERENCES BATCH_STEP_EXECUTION (STEP_EXECUTION_ID)
        ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE INDEX IDX_BATCH_PART_NODE_STATUS ON batch_partitions (assigned_node, status);
CREATE INDEX IDX_BATCH_PART_MASTER_STATUS ON batch_partitions (master_step_execution_id, status);

-- Phase-timing events (3.x, written only when capture-phase-timings is on). No foreign key on
-- purpose: the audit trail may outlive the job execution row.
CREATE TABLE batch_job_phase_events (
    JOB_EXECUTION_ID BIGINT NOT NULL,
    NODE_ID VARCHAR(200) NOT NULL,
    PHASE VARCHAR(40) NOT NULL,
    EVENT_TIME TIMESTAMP(3) NOT NULL
) ENGINE=InnoDB;

CREATE INDEX IDX_BATCH_PHASE_EVENTS_JOB ON batch_job_phase_events (JOB_EXECUTION_ID);
