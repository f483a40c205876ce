package springbatch.compat;

/**
 * Entry point: {@code java -cp OUT:<jdbc jars> springbatch.compat.Main <command> [args]}.
 *
 * <p>JSON-lines commands (stdin to stdout): contexts-read, contexts-write, job-keys,
 * parameter-rows. Cluster node: node (see {@link NodeCommand}).
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length == 0) {
            usage();
            System.exit(2);
        }
        String command = args[0];
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        int code;
        try {
            if (command.equals("node")) {
                code = NodeCommand.run(rest);
            } else {
                LineCommands.Handler handler = LineCommands.handler(command);
                if (handler == null) {
                    usage();
                    System.exit(2);
                    return;
                }
                code = LineCommands.run(handler);
            }
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            code = 2;
        } catch (Throwable e) {
            Log.error(e, "%s failed", command);
            code = 3;
        }
        System.out.flush();
        System.exit(code);
    }

    private static void usage() {
        System.err.println("usage: Main contexts-read | contexts-write | job-keys | parameter-rows   (JSON lines on stdin)");
        System.err.println("       Main node --url <JDBC URL> --ready <file> [--major 5|6] [--prefix <p>]");
        System.err.println("                 [--launch '<job spec JSON>'] [--zone <IANA zone>] [--deregister-on-exit]");
        System.err.println("                 [--set <cluster property>=<value> ...]");
    }
}
