import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { synthKeywatch } from "../support/synth.js";

function routeFor(routeKey: string) {
  const routes = synthKeywatch().stateless.findResources("AWS::ApiGatewayV2::Route", {
    Properties: { RouteKey: routeKey },
  });
  const [route] = Object.values(routes) as { Properties: Record<string, unknown> }[];
  return route?.Properties;
}

describe("security console", () => {
  it("puts every data route behind the JWT authorizer", () => {
    const keys = [
      "GET /api/incidents",
      "GET /api/incidents/{id}",
      "POST /api/incidents/{id}/actions",
      "GET /api/anomalies/daily",
    ];
    expect(keys.map((key) => routeFor(key)?.AuthorizationType)).toEqual(["JWT", "JWT", "JWT", "JWT"]);
  });

  it("authorizes with the security team's Cognito user pool", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      JwtConfiguration: Match.objectLike({ Issuer: Match.anyValue() }),
    });
  });

  it("lets nobody sign themselves up, and requires MFA", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::Cognito::UserPool", {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: "ON",
    });
  });

  it("serves the static page without a token", () => {
    expect(routeFor("GET /console")?.AuthorizationType ?? "NONE").toBe("NONE");
  });

  it("gives the console API read-only access to anomalies", () => {
    const policies = synthKeywatch().stateless.findResources("AWS::IAM::Policy");
    const consolePolicy = Object.entries(policies).find(([id]) => id.startsWith("ConsoleApiRole"));
    const text = JSON.stringify(consolePolicy?.[1]);
    const anomalyStatement = (
      consolePolicy?.[1] as {
        Properties: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } };
      }
    )?.Properties.PolicyDocument.Statement.find((s) => JSON.stringify(s.Resource).includes("AnomaliesTable"));
    expect([text.length > 0, anomalyStatement?.Action.includes("dynamodb:PutItem")]).toEqual([true, false]);
  });
});
