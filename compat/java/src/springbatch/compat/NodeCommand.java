package springbatch.compat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TimeZone;

/**
 * {@code node --url <JDBC URL> --ready <file> [--major 5|6] [--prefix <p>] [--launch '<spec>']
 * [--zone <IANA zone>] [--deregister-on-exit] [--set name=value ...]}.
 *
 * <p>Without --launch the node works until it is killed. With --launch it runs the job as its
 * master (working as a worker meanwhile), prints {"job_execution_id":..,"status":".."} and exits
 * with 0 when the job COMPLETED, 1 otherwise.
 */
final class NodeCommand {

    private NodeCommand() {
    }

    static int run(String[] args) throws Exception {
        String url = null;
        String ready = null;
        String prefix = null;
        String launch = null;
        String zone = "UTC";
        int major = 6;
        boolean deregister = false;
        ClusterSettings settings = new ClusterSettings();
        settings.loadEnvironment(System.getenv());
        List<String> sets = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--url":
                    url = value(args, ++i, a);
                    break;
                case "--ready":
                    ready = value(args, ++i, a);
                    break;
                case "--major":
                    major = Integer.parseInt(value(args, ++i, a));
                    if (major != 5 && major != 6) {
                        throw new IllegalArgumentException("--major must be 5 or 6");
                    }
                    break;
                case "--prefix":
                    prefix = value(args, ++i, a);
                    break;
                case "--launch":
                    launch = value(args, ++i, a);
                    break;
                case "--zone":
                    zone = value(args, ++i, a);
                    break;
                case "--deregister-on-exit":
                    deregister = true;
                    break;
                case "--set":
                    sets.add(value(args, ++i, a));
                    while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                        sets.add(args[++i]);
                    }
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        if (url == null) {
            throw new IllegalArgumentException("--url is required");
        }
        for (String s : sets) {
            settings.set(s);
        }
        // Spring Batch writes JVM-local wall-clock times and pgjdbc sets the session zone from the
        // JVM's: every node must agree on one zone.
        TimeZone.setDefault(TimeZone.getTimeZone(java.time.ZoneId.of(zone)));
        Master.Spec spec = launch == null ? null : Master.Spec.parse(launch);

        Db db = new Db(url, settings.concurrencyLimitPerNode() + 10);
        JobRepository repository = new JobRepository(db, major);
        ClusterNode node = new ClusterNode(db, repository, settings, prefix);
        node.start(ready == null ? null : Path.of(ready));
        final boolean removeRow = deregister;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (removeRow) {
                node.stop(true);
            }
        }, "shutdown"));
        if (spec == null) {
            Thread.currentThread().join(); // until killed
            return 0;
        }
        Integer exit = null;
        String out;
        try {
            JobExecution je = new Master(node, spec).run();
            out = Json.write(Json.obj("job_execution_id", je.id, "status", je.status.name()));
            exit = je.status == BatchStatus.COMPLETED ? 0 : 1;
        } catch (JobRepository.LaunchException e) {
            Log.error(e, "the job could not be launched");
            out = Json.write(Json.obj("job_execution_id", null, "status", null, "error", e.getMessage()));
            exit = 1;
        }
        System.out.println(out);
        System.out.flush();
        return exit;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }
}
