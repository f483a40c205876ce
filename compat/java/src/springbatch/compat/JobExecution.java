package springbatch.compat;

import java.time.LocalDateTime;
import java.util.HashMap;

/** A row of BATCH_JOB_EXECUTION (plus its context), as the repository keeps it in memory. */
final class JobExecution {
    long id;
    long instanceId;
    String jobName;
    LocalDateTime createTime;
    LocalDateTime startTime;
    LocalDateTime endTime;
    LocalDateTime lastUpdated;
    BatchStatus status = BatchStatus.STARTING;
    ExitStatus exitStatus = ExitStatus.UNKNOWN;
    int version;
    HashMap<String, Object> context = new HashMap<>();

    void upgradeStatus(BatchStatus other) {
        status = status.upgradeTo(other);
    }

    @Override
    public String toString() {
        return "JobExecution[id=" + id + ", status=" + status + ", version=" + version + "]";
    }
}
