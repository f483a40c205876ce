package springbatch.compat;

/** Spring Batch's BatchStatus, in its ordinal order (used by max and upgradeTo). */
enum BatchStatus {
    COMPLETED,
    STARTING,
    STARTED,
    STOPPING,
    STOPPED,
    FAILED,
    ABANDONED,
    UNKNOWN;

    static BatchStatus max(BatchStatus a, BatchStatus b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    boolean isRunning() {
        return this == STARTING || this == STARTED || this == STOPPING;
    }

    boolean isUnsuccessful() {
        return compareTo(FAILED) >= 0;
    }

    /** Spring's upgrade rule: past STARTED the greater wins; else COMPLETED wins; else the greater. */
    BatchStatus upgradeTo(BatchStatus other) {
        if (compareTo(STARTED) > 0 || other.compareTo(STARTED) > 0) {
            return max(this, other);
        }
        if (this == COMPLETED || other == COMPLETED) {
            return COMPLETED;
        }
        return max(this, other);
    }

    /** Parses a STATUS column (null or unknown text reads as UNKNOWN). */
    static BatchStatus parse(String text) {
        if (text == null) {
            return UNKNOWN;
        }
        try {
            return valueOf(text.trim());
        } catch (IllegalArgumentException e) {
            return UNKNOWN;
        }
    }
}
