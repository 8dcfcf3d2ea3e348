import { z } from "zod";
import { assertPrefix, DEFAULT_PREFIX } from "../domain/key-format.js";
import { TABLES, type TableKey, type TableNames } from "./table-specs.js";

export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** Reads and validates settings once (at cold start); fails fast naming every bad variable. */
export function readEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "(env)"}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** Comma-separated key prefixes, each `[a-z]{2,10}_`. */
export const KeyPrefixesSchema = z
  .string()
  .default(DEFAULT_PREFIX)
  .transform((raw, ctx) => {
    const prefixes = raw
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    for (const prefix of prefixes) {
      try {
        assertPrefix(prefix);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }
    return prefixes.length > 0 ? prefixes : [DEFAULT_PREFIX];
  });

/** Table names from the environment variables the stack sets (see lambdas/adapters/table-specs.ts). */
export function tableNamesFromEnv<K extends TableKey>(
  keys: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Pick<TableNames, K> {
  const names = {} as Pick<TableNames, K>;
  const missing: string[] = [];
  for (const key of keys) {
    const value = env[TABLES[key].envVar];
    if (value) names[key] = value;
    else missing.push(TABLES[key].envVar);
  }
  if (missing.length > 0) throw new ConfigError(`invalid configuration: missing ${missing.join(", ")}`);
  return names;
}
