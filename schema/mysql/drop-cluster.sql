-- Drops the cluster tables (mysql). Run before dropping Spring Batch's tables: the cluster tables
-- reference BATCH_JOB_EXECUTION and BATCH_STEP_EXECUTION.

DROP TABLE IF EXISTS batch_partitions;
DROP TABLE IF EXISTS batch_job_coordination;
DROP TABLE IF EXISTS batch_nodes;
DROP TABLE IF EXISTS batch_job_phase_events;
