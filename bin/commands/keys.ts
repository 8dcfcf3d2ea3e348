import { parseArgs } from "node:util";
import { z } from "zod";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import type { KeyRecord, KeyRepository } from "../../lambdas/domain/key-record.js";
import { readLocalSettings } from "../local/settings.js";
import { withLocalTables } from "./command-frame.js";

const USAGE = [
  "usage: keywatch keys issue --project P --email E",
  "       keywatch keys list [--json]",
  "       keywatch keys revoke <keyHash|keyId|redacted>",
].join("\n");

export const ProjectIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "project ids are 1-64 letters, digits, '.', '_' or '-'");
const EmailSchema = z.email("expected an email address").max(254);

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** `keywatch keys issue|list|revoke` against the local tables (same settings as `keywatch start`). */
export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    strict: false,
    options: { project: { type: "string" }, email: { type: "string" }, json: { type: "boolean" } },
  });
  const [action, ...rest] = positionals;
  const settings = readLocalSettings();
  try {
    if (action !== "issue" && action !== "list" && action !== "revoke")
      throw new UsageError("expected issue, list or revoke");
    if (action === "issue") {
      const project = ProjectIdSchema.safeParse(values.project);
      const email = EmailSchema.safeParse(values.email);
      if (!project.success)
        throw new UsageError(`--project: ${project.error.issues[0]?.message ?? "required"}`);
      if (!email.success) throw new UsageError(`--email: ${email.error.issues[0]?.message ?? "required"}`);
      return await withKeys(settings, async (keys) => {
        const prefix = settings.keyPrefixes[0];
        const issued = await issueKey(project.data, email.data, {
          keys,
          clock: systemClock,
          ...(prefix ? { prefix } : {}),
        });
        // The raw key alone on the first stdout line: the only time it is ever shown.
        process.stdout.write(`${issued.rawKey}\n`);
        process.stderr.write(
          `Issued key ${issued.record.redacted} (keyId ${issued.record.keyId}) for project ${project.data}.\n` +
            "Store it in your secret manager now: keywatch keeps only its SHA-256 hash and cannot show it again.\n",
        );
        return 0;
      });
    }
    if (action === "list") {
      return await withKeys(settings, async (keys) => {
        const all: KeyRecord[] = [];
        let cursor: string | undefined;
        do {
          const page = await keys.list({ limit: 100, ...(cursor ? { cursor } : {}) });
          all.push(...page.keys);
          cursor = page.cursor;
        } while (cursor);
        all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
        if (values.json) {
          for (const key of all) process.stdout.write(`${JSON.stringify(key)}\n`);
        } else {
          process.stdout.write(
            `${["keyId".padEnd(17), "redacted".padEnd(16), "status".padEnd(12), "project".padEnd(20), "created"].join(" ")}\n`,
          );
          for (const k of all) {
            process.stdout.write(
              `${[k.keyId.padEnd(17), k.redacted.padEnd(16), k.status.padEnd(12), k.projectId.padEnd(20), k.createdAt].join(" ")}\n`,
            );
          }
        }
        return 0;
      });
    }
    const ref = rest[0];
    if (!ref || rest.length !== 1)
      throw new UsageError("revoke takes one key reference (keyHash, keyId or redacted form)");
    return await withKeys(settings, async (keys) => {
      const key = await resolveKey(keys, ref);
      const revoked = await keys.revoke(key.keyHash, systemClock.now().toISOString());
      process.stdout.write(
        `${JSON.stringify({ keyId: revoked?.keyId, redacted: revoked?.redacted, status: revoked?.status })}\n`,
      );
      return 0;
    });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`keywatch keys: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

async function withKeys(
  settings: ReturnType<typeof readLocalSettings>,
  use: (keys: KeyRepository) => Promise<number>,
): Promise<number> {
  return withLocalTables(settings, (env) => use(createKeyRepository(env.client, env.tables.keys)));
}

/** A full hash, a 16-hex keyId, or the redacted form (must match exactly one key). */
async function resolveKey(keys: KeyRepository, ref: string): Promise<KeyRecord> {
  let found: KeyRecord | undefined;
  if (/^[0-9a-f]{64}$/.test(ref)) found = await keys.get(ref);
  else if (/^[0-9a-f]{16}$/.test(ref)) found = await keys.getByKeyId(ref);
  else {
    const matches: KeyRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await keys.list({ limit: 100, ...(cursor ? { cursor } : {}) });
      matches.push(...page.keys.filter((k) => k.redacted === ref));
      cursor = page.cursor;
    } while (cursor);
    if (matches.length > 1) throw new UsageError(`${ref} matches ${matches.length} keys; use the keyId`);
    found = matches[0];
  }
  if (!found) throw new UsageError(`no key matches ${ref}`);
  return found;
}
