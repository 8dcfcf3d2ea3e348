#!/usr/bin/env node
import { readFileSync } from "node:fs";

/**
 * The keywatch CLI. Each command lives in bin/commands/<name>.ts and is imported only when
 * used, so `keywatch --version` and `keywatch scan` start without loading AWS SDKs.
 */
const COMMANDS: Record<string, string> = {
  scan: "Scan files, directories or stdin for Smelter keys",
  start: "Run the whole monitor locally (DynamoDB Local, HTTP server, schedulers, outbox)",
  keys: "Issue, list and revoke keys (keys issue --project P --email E | keys list | keys revoke)",
  incidents: "List incidents (incidents list [--json])",
  logs: "Feed access logs through the anomaly detector (logs ingest [FILE|-])",
  anomalies: "List recorded anomalies (anomalies list [--json])",
  privacy: "Export or delete a person's data (privacy export|delete --email E)",
  webhook: "Sign a secret-scanning payload with a local key (webhook sign ...)",
  watch: "Watch GitHub owners/repos: every push diffed (watch add|list|remove)",
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, text]) => `  ${name.padEnd(10)} ${text}`);
  return `usage: keywatch <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nkeywatch --version | --help`;
}

/**
 * The CLI narrates what matters itself, so the Lambda-style INFO logs of the code it runs are
 * off unless LOG_LEVEL asks for them; and the SDK's note that its 2027 releases need Node 22 is
 * already known (Lambdas run 22; the CLI supports 20).
 */
function quietDefaults(env: NodeJS.ProcessEnv): void {
  env.LOG_LEVEL ??= "WARN";
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

async function main(argv: string[]): Promise<number> {
  quietDefaults(process.env);
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-v") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(`${usage()}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!(command in COMMANDS)) {
    process.stderr.write(`keywatch: unknown command "${command}" (try keywatch --help)\n`);
    return 2;
  }
  let module: { run(args: string[]): Promise<number> };
  try {
    module = (await import(`./commands/${command}.js`)) as typeof module;
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
      String(error).includes(`commands/${command}`)
    ) {
      process.stderr.write(`keywatch: command "${command}" is not available in this build\n`);
      return 2;
    }
    throw error;
  }
  return module.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`keywatch: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
