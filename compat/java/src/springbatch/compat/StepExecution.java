package springbatch.compat;

import java.time.LocalDateTime;
import java.util.HashMap;

/** A row of BATCH_STEP_EXECUTION (plus its context), as the repository keeps it in memory. */
final class StepExecution {
    long id;
    long jobExecutionId;
    String stepName;
    LocalDateTime createTime;
    LocalDateTime startTime;
    LocalDateTime endTime;
    LocalDateTime lastUpdated;
    BatchStatus status = BatchStatus.STARTING;
    ExitStatus exitStatus = ExitStatus.EXECUTING;
    int version;
    long commitCount;
    long readCount;
    long filterCount;
    long writeCount;
    long readSkipCount;
    long writeSkipCount;
    long processSkipCount;
    long rollbackCount;
    HashMap<String, Object> context = new HashMap<>();
    /** Set when the job is being stopped: the step ends STOPPED at its next chunk boundary. */
    volatile boolean terminateOnly;
    /** The job execution, when loaded with the step. */
    JobExecution jobExecution;

    StepExecution() {
    }

    StepExecution(String stepName, long jobExecutionId) {
        this.stepName = stepName;
        this.jobExecutionId = jobExecutionId;
    }

    void upgradeStatus(BatchStatus other) {
        status = status.upgradeTo(other);
    }

    @Override
    public String toString() {
        return "StepExecution[id=" + id + ", name=" + stepName + ", status=" + status + ", version=" + version + "]";
    }
}
