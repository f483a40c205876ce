package springbatch.compat;

/** Spring Batch's ExitStatus: a code and a description, combined by severity. */
final class ExitStatus {

    static final ExitStatus UNKNOWN = new ExitStatus("UNKNOWN", "");
    static final ExitStatus EXECUTING = new ExitStatus("EXECUTING", "");
    static final ExitStatus COMPLETED = new ExitStatus("COMPLETED", "");
    static final ExitStatus NOOP = new ExitStatus("NOOP", "");
    static final ExitStatus FAILED = new ExitStatus("FAILED", "");
    static final ExitStatus STOPPED = new ExitStatus("STOPPED", "");

    final String code;
    final String description;

    ExitStatus(String code, String description) {
        this.code = code;
        this.description = description == null ? "" : description;
    }

    private static int severity(String code) {
        if (code.startsWith("EXECUTING")) {
            return 1;
        }
        if (code.startsWith("COMPLETED")) {
            return 2;
        }
        if (code.startsWith("NOOP")) {
            return 3;
        }
        if (code.startsWith("STOPPED")) {
            return 4;
        }
        if (code.startsWith("FAILED")) {
            return 5;
        }
        if (code.startsWith("UNKNOWN")) {
            return 6;
        }
        return 7;
    }

    private int compareTo(ExitStatus other) {
        int s = Integer.compare(severity(code), severity(other.code));
        return s != 0 ? s : code.compareTo(other.code);
    }

    /** The more severe code; descriptions joined with "; ". */
    ExitStatus and(ExitStatus other) {
        if (other == null) {
            return this;
        }
        ExitStatus result = addDescription(other.description);
        if (compareTo(other) < 0) {
            result = new ExitStatus(other.code, result.description);
        }
        return result;
    }

    ExitStatus addDescription(String more) {
        if (more == null || more.isBlank() || description.equals(more)) {
            return this;
        }
        return new ExitStatus(code, description.isBlank() ? more : description + "; " + more);
    }

    @Override
    public String toString() {
        return "exitCode=" + code + ";exitDescription=" + description;
    }
}
