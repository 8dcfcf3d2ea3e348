/**
 * Test-only fault injection for the crash-consistency suite (test/reliability/crash.test.ts):
 * named points of the pipeline where the runner can kill itself with SIGKILL, set by
 * KEYWATCH_CRASH_AT (bin/local/settings.ts). With the setting unset nothing here ever fires.
 */
export const CRASH_POINTS = [
  /** A partner delivery or a report answered 2xx (the response fully written). */
  "after-ack",
  /** The notifier's ledger claim is written; nothing sent yet. */
  "after-claim",
  /** The email or alert is in the outbox; the claim is not marked `sent`. */
  "after-send",
  /** The claim is marked `sent`; the incident not yet moved to `notified`. */
  "after-mark-sent",
  /** The stream pump's handler returned; its checkpoint is not yet written. */
  "after-pump-deliver",
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export type CrashHook = (point: CrashPoint) => void;

/** Never crashes: what every runner gets unless KEYWATCH_CRASH_AT is set. */
export const noCrash: CrashHook = () => {};

/**
 * A hook that SIGKILLs this process (no cleanup, no flush: like kill -9 from outside) the n-th
 * time a listed point is reached. Throws on an unknown point name, so a typo can't pass silently.
 */
export function crashHookFrom(setting: string | undefined, kill: () => void = defaultKill): CrashHook {
  if (!setting) return noCrash;
  const targets = new Map<string, number>();
  for (const part of setting.split(",")) {
    const [point, nth] = part.split(":");
    if (!CRASH_POINTS.includes(point as CrashPoint)) {
      throw new Error(`KEYWATCH_CRASH_AT: unknown point "${point}" (one of ${CRASH_POINTS.join(", ")})`);
    }
    targets.set(point as string, Number(nth ?? 1));
  }
  const reached = new Map<string, number>();
  return (point) => {
    const target = targets.get(point);
    if (target === undefined) return;
    const count = (reached.get(point) ?? 0) + 1;
    reached.set(point, count);
    if (count === target) kill();
  };
}

function defaultKill(): void {
  process.kill(process.pid, "SIGKILL");
}
