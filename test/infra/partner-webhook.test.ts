import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { SECRET_SCANNING_PATH } from "../../lib/constructs/partner-webhook.js";
import { synthKeywatch } from "../support/synth.js";

type Resource = { Properties: Record<string, unknown> };

function webhookFunction(): Resource {
  const functions = synthKeywatch().stateless.findResources("AWS::Lambda::Function", {
    Properties: { Description: Match.stringLikeRegexp("secret-scanning partner webhook") },
  });
  const found = Object.values(functions) as Resource[];
  expect(found).toHaveLength(1);
  return found[0] as Resource;
}

function statementsOf(prefix: string): { Action: string | string[]; Resource: unknown }[] {
  const policies = synthKeywatch().stateless.findResources("AWS::IAM::Policy");
  return Object.entries(policies)
    .filter(([id]) => id.startsWith(prefix))
    .flatMap(
      ([, policy]) =>
        (
          policy as {
            Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } };
          }
        ).Properties.PolicyDocument.Statement,
    );
}

describe("partner webhook route", () => {
  it("is POST /github/secret-scanning on the public API with no authorizer (GitHub signs, the handler verifies)", () => {
    const routes = synthKeywatch().stateless.findResources("AWS::ApiGatewayV2::Route", {
      Properties: { RouteKey: `POST ${SECRET_SCANNING_PATH}` },
    });
    const route = (Object.values(routes) as Resource[])[0]?.Properties;

    expect(route?.AuthorizationType ?? "NONE").toBe("NONE");
  });

  it("outputs the endpoint URL to register with GitHub", () => {
    const outputs = synthKeywatch().stateless.findOutputs("*", {
      Description: Match.stringLikeRegexp("secret-scanning partner endpoint"),
    });

    expect(JSON.stringify(Object.values(outputs)[0]?.Value)).toContain(SECRET_SCANNING_PATH);
  });
});

describe("partner webhook function", () => {
  it("fetches GitHub's keys from api.github.com unless context keywatch:githubApiUrl says otherwise", () => {
    const env = (webhookFunction().Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;

    expect(env.GITHUB_API_URL).toBe("https://api.github.com");
  });

  it("gets the key prefixes and the keys and incidents tables", () => {
    const env = (webhookFunction().Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;

    expect(Object.keys(env)).toEqual(
      expect.arrayContaining(["KEYWATCH_KEY_PREFIXES", "KEYS_TABLE", "INCIDENTS_TABLE"]),
    );
  });

  it("times out before API Gateway's (and GitHub's) 30 s", () => {
    expect(webhookFunction().Properties.Timeout).toBeLessThan(30);
  });

  it("has no access to reports or anomalies, and only records its health in the state table", () => {
    const statements = statementsOf("PartnerWebhookHandlerRole");
    const resources = JSON.stringify(statements.map((s) => s.Resource));
    const onState = statements.filter((s) => /StateTable/.test(JSON.stringify(s.Resource)));

    expect(resources).not.toMatch(/ReportsTable|AnomaliesTable/);
    expect(onState.map((s) => s.Action)).toEqual(["dynamodb:UpdateItem"]);
  });

  it("can write the keys and incidents tables (quarantine, incidents)", () => {
    const resources = JSON.stringify(statementsOf("PartnerWebhookHandlerRole").map((s) => s.Resource));

    expect(resources).toMatch(/KeysTable[\s\S]*IncidentsTable|IncidentsTable[\s\S]*KeysTable/);
  });
});
