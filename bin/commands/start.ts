import { DynamoDbExposedError, JavaMissingError } from "../local/dynamodb-local.js";
import { DataFolderInUseError } from "../local/local-environment.js";
import { PortInUseError, startLocalMonitor } from "../local/runner.js";
import { readLocalSettings } from "../local/settings.js";

/** Start-up failures that deserve one clear line, not a stack trace. */
const EXPLAINED = [JavaMissingError, PortInUseError, DataFolderInUseError, DynamoDbExposedError];

/**
 * `keywatch start`: the whole monitor locally until Ctrl-C (SIGINT/SIGTERM), or until its
 * DynamoDB Local is gone for good (exit 1 with the reason). Every exit path stops DynamoDB
 * Local and prints `keywatch: stopped`.
 */
export async function run(_args: string[]): Promise<number> {
  const settings = readLocalSettings();
  let finish: ((code: number) => void) | undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let monitor: Awaited<ReturnType<typeof startLocalMonitor>>;
  try {
    monitor = await startLocalMonitor(settings, {
      onFatal(reason) {
        process.stderr.write(`keywatch: ${reason}\n`);
        process.stdout.write("keywatch: stopped\n");
        finish?.(1);
      },
    });
  } catch (error) {
    if (EXPLAINED.some((kind) => error instanceof kind)) {
      process.stderr.write(`keywatch: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
  process.stdout.write("keywatch: running; press Ctrl-C to stop\n");
  const shutdown = (signal: NodeJS.Signals) => {
    process.off("SIGINT", shutdown);
    process.off("SIGTERM", shutdown);
    process.stdout.write(`\nkeywatch: ${signal} received, shutting down\n`);
    // A stop that hangs (a frozen dependency) still ends: DynamoDB Local exits with this process.
    const forced = new Promise<void>((_, reject) => {
      setTimeout(() => reject(new Error("took over 20 s; forced")), 20_000).unref();
    });
    Promise.race([monitor.stop(), forced]).then(
      () => {
        process.stdout.write("keywatch: stopped\n");
        finish?.(0);
      },
      (error: unknown) => {
        process.stderr.write(`keywatch: shutdown failed: ${(error as Error).message}\n`);
        process.stdout.write("keywatch: stopped\n");
        finish?.(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  const code = await finished;
  process.off("SIGINT", shutdown);
  process.off("SIGTERM", shutdown);
  return code;
}
