import { randomUUID } from "node:crypto";
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { createPersonalDataStore } from "../../lambdas/adapters/personal-data-store.js";
import { erasePersonalData, exportPersonalData, PrivacyRequestError } from "../../lambdas/domain/privacy.js";
import { homePaths, readLocalSettings } from "../local/settings.js";
import { parseOrUsage, withLocalTables } from "./command-frame.js";

const USAGE = "usage: keywatch privacy export --email E | keywatch privacy delete --email E [--actor NAME]";

/** `keywatch privacy export|delete --email E`: a person's data as JSON, or its erasure. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseOrUsage("privacy", USAGE, parse, args);
  if (!parsed) return 2;
  const { action, email, actor } = parsed;
  const settings = readLocalSettings();
  return withLocalTables(settings, async (env) => {
    try {
      const store = createPersonalDataStore({
        client: env.client,
        tables: env.tables,
        outboxEmails: homePaths(settings.home).emails,
      });
      const now = () => new Date();
      if (action === "export") {
        const data = await exportPersonalData(email, { store, now });
        process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      } else {
        const record = await erasePersonalData(email, { store, now, actor, newId: randomUUID });
        process.stdout.write(`${JSON.stringify(record)}\n`);
      }
      return 0;
    } catch (error) {
      if (error instanceof PrivacyRequestError) {
        process.stderr.write(`keywatch privacy: ${error.message}\n`);
        return 2;
      }
      throw error;
    }
  });
}

function parse(args: string[]) {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { email: { type: "string" }, actor: { type: "string" } },
  });
  const action = positionals[0];
  if (positionals.length !== 1 || (action !== "export" && action !== "delete"))
    throw new Error("expected `export` or `delete`");
  if (!values.email) throw new Error("--email is required");
  return { action, email: values.email, actor: values.actor ?? `cli:${userInfo().username}` } as const;
}
