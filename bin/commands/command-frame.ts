import { type LocalEnvironment, openLocalEnvironment } from "../local/local-environment.js";
import type { LocalSettings } from "../local/settings.js";

/** Parses a command's arguments; on a usage error prints it with the usage line and returns undefined (exit 2). */
export function parseOrUsage<O>(
  command: string,
  usage: string,
  parse: (args: string[]) => O,
  args: string[],
) {
  try {
    return parse(args);
  } catch (error) {
    process.stderr.write(`keywatch ${command}: ${(error as Error).message}\n${usage}\n`);
    return undefined;
  }
}

/** Runs `body` against the local tables (a running `keywatch start`'s DynamoDB Local, or one started here), then closes them. */
export async function withLocalTables(
  settings: LocalSettings,
  body: (env: LocalEnvironment) => Promise<number>,
): Promise<number> {
  const env = await openLocalEnvironment(settings);
  try {
    return await body(env);
  } finally {
    await env.close();
  }
}
