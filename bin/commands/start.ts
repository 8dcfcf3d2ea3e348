import { JavaMissingError } from "../local/dynamodb-local.js";
import { PortInUseError, startLocalMonitor } from "../local/runner.js";
import { readLocalSettings } from "../local/settings.js";

/** `keywatch start`: the whole monitor locally until Ctrl-C (SIGINT/SIGTERM). */
export async function run(_args: string[]): Promise<number> {
  const settings = readLocalSettings();
  let monitor: Awaited<ReturnType<typeof startLocalMonitor>>;
  try {
    monitor = await startLocalMonitor(settings);
  } catch (error) {
    if (error instanceof JavaMissingError || error instanceof PortInUseError) {
      process.stderr.write(`keywatch: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  process.stdout.write("keywatch: running; press Ctrl-C to stop\n");
  return new Promise<number>((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      process.off("SIGINT", shutdown);
      process.off("SIGTERM", shutdown);
      process.stdout.write(`\nkeywatch: ${signal} received, shutting down\n`);
      monitor.stop().then(
        () => {
          process.stdout.write("keywatch: stopped\n");
          resolve(0);
        },
        (error: unknown) => {
          process.stderr.write(`keywatch: shutdown failed: ${(error as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on("SIGINT", shutdown);
    process.on("SIGTERM", shutdown);
  });
}
