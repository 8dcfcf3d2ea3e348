import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { CONSOLE_API_ROUTES, RESPONDERS_GROUP } from "../../lambdas/handlers/console-api.js";
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

  it("puts every console API route behind the JWT authorizer", () => {
    const template = synthKeywatch().stateless;
    const unprotected = CONSOLE_API_ROUTES.map((r) => `${r.method} ${r.path}`).filter(
      (key) => routeFor(key)?.AuthorizationType !== "JWT",
    );
    expect([template !== undefined, unprotected]).toEqual([true, []]);
  });

  it("derives the sign-in domain prefix from the stack's own id, never a constant", () => {
    const domains = synthKeywatch().stateless.findResources("AWS::Cognito::UserPoolDomain");
    const [domain] = Object.values(domains) as { Properties: { Domain: unknown } }[];
    expect(JSON.stringify(domain?.Properties.Domain)).toContain("AWS::StackId");
  });

  it("creates the responders group the API checks for", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::Cognito::UserPoolGroup", {
      GroupName: RESPONDERS_GROUP,
    });
  });
});
