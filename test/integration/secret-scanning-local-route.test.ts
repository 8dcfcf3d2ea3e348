import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type LocalMonitor, startLocalMonitor } from "../../bin/local/runner.js";
import { LOCAL_PUBLIC_KEYS_FILE } from "../../bin/local/secret-scanning-route.js";
import { readLocalSettings } from "../../bin/local/settings.js";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { type GitHubStandIn, startGitHubStandIn } from "../../standin/github/github-stand-in.js";
import { generateSigningKey, published, type TestSigningKey } from "../support/partner-keys.js";

async function deliver(monitor: LocalMonitor, signer: TestSigningKey, token: string) {
  const body = JSON.stringify([{ token, type: "smelter_api_key", url: "", source: "content" }]);
  const response = await fetch(`${monitor.url}/github/secret-scanning`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "github-public-key-identifier": signer.keyIdentifier,
      "github-public-key-signature": signer.sign(body),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function registeredKey(monitor: LocalMonitor) {
  const keys = createKeyRepository(monitor.env.client, monitor.env.tables.keys);
  return (await issueKey("local-route", "owner@example.com", { keys, clock: systemClock })).rawKey;
}

const start = (home: string, extra: Record<string, string> = {}) =>
  startLocalMonitor(
    readLocalSettings({
      PORT: "0",
      KEYWATCH_HOME: home,
      DYNAMODB_ENDPOINT: inject("dynamoDbEndpoint"),
      ...extra,
    }),
    { log: () => {}, schedulers: false, notifier: false },
  );

describe("the local runner's POST /github/secret-scanning", () => {
  describe("with GITHUB_API_URL (the stand-in plays GitHub)", () => {
    let standIn: GitHubStandIn;
    let monitor: LocalMonitor;
    let home: string;
    const signer = generateSigningKey();

    beforeAll(async () => {
      standIn = await startGitHubStandIn({ publicKeys: [published(signer)] });
      home = mkdtempSync(join(tmpdir(), "kw-route-"));
      monitor = await start(home, { GITHUB_API_URL: standIn.url });
    });
    afterAll(async () => {
      await monitor?.stop();
      await standIn?.stop();
      rmSync(home, { recursive: true, force: true });
    });

    it("labels a registered key true_positive, fetching GitHub's keys once", async () => {
      const key = await registeredKey(monitor);

      const first = await deliver(monitor, signer, key);
      const second = await deliver(monitor, signer, key);

      expect({
        first: first.status,
        label: (second.body as { label: string }[])[0]?.label,
        fetches: standIn.count("/meta/public_keys/secret_scanning"),
      }).toEqual({ first: 200, label: "true_positive", fetches: 1 });
    });
  });

  describe("offline (no GitHub URL or token): keys from KEYWATCH_HOME/github-public-keys.json", () => {
    let monitor: LocalMonitor;
    let home: string;
    const signer = generateSigningKey();

    beforeAll(async () => {
      home = mkdtempSync(join(tmpdir(), "kw-route-offline-"));
      monitor = await start(home);
    });
    afterAll(async () => {
      await monitor?.stop();
      rmSync(home, { recursive: true, force: true });
    });

    it("refuses a signed delivery while the file doesn't list the key (401)", async () => {
      expect((await deliver(monitor, signer, "x")).status).toBe(401);
    });

    it("accepts it once the key is saved there", async () => {
      writeFileSync(join(home, LOCAL_PUBLIC_KEYS_FILE), JSON.stringify({ public_keys: [published(signer)] }));
      const key = await registeredKey(monitor);

      const result = await deliver(monitor, signer, key);

      expect({ status: result.status, label: (result.body as { label: string }[])[0]?.label }).toEqual({
        status: 200,
        label: "true_positive",
      });
    });
  });
});
