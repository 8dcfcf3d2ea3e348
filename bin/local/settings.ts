import { resolve } from "node:path";
import { z } from "zod";
import { KeyPrefixesSchema, readEnv } from "../../lambdas/adapters/config.js";

/**
 * Settings of `keywatch start` and of every CLI command that reads tables (DESIGN.md
 * "Local interfaces"): read once from the environment and validated.
 */
export const LocalSettingsSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8787),
    KEYWATCH_HOME: z.string().min(1).default(".keywatch"),
    KEYWATCH_KEY_PREFIXES: KeyPrefixesSchema,
    GITHUB_API_URL: z.string().url().optional(),
    GITHUB_TOKEN: z.string().min(1).optional(),
    DYNAMODB_ENDPOINT: z.string().url().optional(),
    /** Extra host names /api/* answers to besides 127.0.0.1, localhost and [::1] (DNS rebinding guard). */
    KEYWATCH_ALLOWED_HOSTS: z
      .string()
      .optional()
      .transform((v) =>
        (v ?? "")
          .split(",")
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/, "a host name without port"))),
  })
  .transform((env) => ({
    port: env.PORT,
    home: resolve(env.KEYWATCH_HOME),
    keyPrefixes: env.KEYWATCH_KEY_PREFIXES,
    github: {
      /** No URL and no token: the built-in stand-in (offline demo). */
      mode: env.GITHUB_API_URL
        ? ("custom" as const)
        : env.GITHUB_TOKEN
          ? ("github" as const)
          : ("stand-in" as const),
      apiUrl: env.GITHUB_API_URL ?? (env.GITHUB_TOKEN ? "https://api.github.com" : undefined),
      token: env.GITHUB_TOKEN,
    },
    dynamoDbEndpoint: env.DYNAMODB_ENDPOINT,
    allowedHosts: env.KEYWATCH_ALLOWED_HOSTS,
  }));

export type LocalSettings = z.infer<typeof LocalSettingsSchema>;

export function readLocalSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  return readEnv(LocalSettingsSchema, env);
}

/** Where things live under KEYWATCH_HOME. */
export function homePaths(home: string) {
  return {
    dynamoDbData: resolve(home, "dynamodb"),
    /** Written by `keywatch start` while its DynamoDB Local runs, so CLI commands can share it. */
    dynamoDbLock: resolve(home, "dynamodb.json"),
    outbox: resolve(home, "outbox"),
    emails: resolve(home, "outbox", "emails"),
    alerts: resolve(home, "outbox", "alerts.jsonl"),
    secrets: resolve(home, "secrets.json"),
  };
}
