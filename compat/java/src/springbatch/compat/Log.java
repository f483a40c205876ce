package springbatch.compat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/** Log lines on stderr: time (JVM default zone), thread, level, message, stack trace. */
final class Log {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private Log() {
    }

    static void info(String format, Object... args) {
        line("INFO", String.format(format, args), null);
    }

    static void warn(String format, Object... args) {
        line("WARN", String.format(format, args), null);
    }

    static void error(Throwable t, String format, Object... args) {
        line("ERROR", String.format(format, args), t);
    }

    private static void line(String level, String message, Throwable t) {
        StringBuilder b = new StringBuilder();
        b.append(TIME.format(LocalDateTime.now())).append(' ').append(Thread.currentThread().getName())
                .append(' ').append(level).append(' ').append(message);
        if (t != null) {
            StringWriter w = new StringWriter();
            t.printStackTrace(new PrintWriter(w));
            b.append(System.lineSeparator()).append(w.toString().stripTrailing());
        }
        synchronized (Log.class) {
            System.err.println(b);
            System.err.flush();
        }
    }
}
