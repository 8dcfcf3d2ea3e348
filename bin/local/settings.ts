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
    /** `allow`: start DynamoDB Local on every interface when no JDK can bind it to loopback. */
    KEYWATCH_DYNAMODB_EXPOSED: z.enum(["allow"]).optional(),
    /**
     * Test-only fault injection (the crash suite): `point[:n][,point[:n]...]` makes the runner
     * kill itself with SIGKILL the n-th time (default 1st) it reaches a point of the pipeline.
     * Unset (the default) nothing is injected. Points: CRASH_POINTS in bin/local/crash-points.ts.
     */
    KEYWATCH_CRASH_AT: z
      .string()
      .regex(/^[a-z-]+(:[1-9][0-9]*)?(,[a-z-]+(:[1-9][0-9]*)?)*$/, "point[:n][,point[:n]...]")
      .optional(),
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
    dynamoDbExposed: env.KEYWATCH_DYNAMODB_EXPOSED === "allow",
    crashAt: env.KEYWATCH_CRASH_AT,
  }));

export type LocalSettings = z.infer<typeof LocalSettingsSchema>;

export function readLocalSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  return readEnv(LocalSettingsSchema, env);
}

/** Where things live under KEYWATCH_HOME. */
export function homePaths(home: string) {
  return {
    dynamoDbData: resolve(home, "dynamodb"),
    /**
     * The data folder's lock, held by whichever keywatch process runs DynamoDB Local on it (owner
     * pid, java pid, endpoint): others share that instance or refuse, and a dead owner's lock is
     * taken over after its DynamoDB Local is gone. Created with O_EXCL, so two starts can't both win.
     */
    dynamoDbLock: resolve(home, "dynamodb.json"),
    /** The local stream pump's position per shard, so a restart resumes instead of replaying. */
    streamCheckpoint: resolve(home, "stream-checkpoint.json"),
    outbox: resolve(home, "outbox"),
    emails: resolve(home, "outbox", "emails"),
    alerts: resolve(home, "outbox", "alerts.jsonl"),
    secrets: resolve(home, "secrets.json"),
  };
}
