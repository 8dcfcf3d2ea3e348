import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts the official DynamoDB Local jar listening on 127.0.0.1 only. The jar has no bind option
 * (its Jetty connector listens on every interface, with no authentication), so this builds the
 * server from the same command-line arguments, sets the connector's host before Jetty binds,
 * and starts it. It also stops (cleanly, then halts) when its standard input closes: the keywatch
 * process that started it holds the other end, so a kill -9 of keywatch cannot leave it running
 * on the data folder.
 * Run with `java -cp <jar>:<lib>/* LoopbackDynamoDbLocal.java <DynamoDB Local arguments>`.
 */
public class LoopbackDynamoDbLocal {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server jetty = (Server) field.get(proxy);
        for (Connector connector : jetty.getConnectors()) {
            if (connector instanceof ServerConnector) ((ServerConnector) connector).setHost("127.0.0.1");
        }
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // Nothing is ever sent: the stream only ends when the parent goes away.
                }
            } catch (Exception ignored) {
                // A broken pipe means the same as end of input.
            }
            // Stop cleanly (Jetty, then the database) so nothing it acknowledged is left
            // uncommitted; halt regardless after 5 s.
            Thread stopper = new Thread(() -> {
                try {
                    proxy.stop();
                } catch (Exception ignored) {
                    // Halting below either way.
                }
                Runtime.getRuntime().halt(0);
            }, "parent-gone-stop");
            stopper.setDaemon(true);
            stopper.start();
            try {
                stopper.join(5_000);
            } catch (InterruptedException ignored) {
                // Halting below either way.
            }
            Runtime.getRuntime().halt(0);
        }, "parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        proxy.start();
        System.out.println("keywatch: DynamoDB Local listening on 127.0.0.1 only");
        proxy.join();
    }
}
