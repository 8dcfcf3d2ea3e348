import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { HttpMethod } from "aws-cdk-lib/aws-apigatewayv2";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER } from "../../lambdas/domain/client-address.js";
import { EDGE_RATE_LIMITS, EdgeProtection } from "../../lib/constructs/edge-protection.js";
import { PublicApi, ROUTE_THROTTLES } from "../../lib/constructs/public-api.js";
import { buildKeywatchApp, KEYWATCH_CONTEXT } from "../../lib/keywatch-app.js";

/** Issue 13 item 9: per-route throttles in the real stack, and the optional CloudFront + WAF front. */

let keywatch: Template;

beforeAll(() => {
  // The real app with the front switched on, cdk-nag attached (a finding throws); bundles skipped.
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), "keywatch-edge-")),
    context: { ...KEYWATCH_CONTEXT, "aws:cdk:bundling-stacks": [], "keywatch:edge": "true" },
  });
  const { stateless } = buildKeywatchApp(app, { env: { account: "111111111111", region: "us-east-1" } });
  app.synth();
  keywatch = Template.fromStack(stateless);
});

describe("per-route throttles", () => {
  function stage() {
    const stages = Object.values(keywatch.findResources("AWS::ApiGatewayV2::Stage"));
    expect(stages).toHaveLength(1);
    return stages[0]?.Properties as {
      DefaultRouteSettings: { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
      RouteSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>;
    };
  }

  it("gives the partner webhook its own budget, apart from the stage default and the form", () => {
    const { RouteSettings } = stage();
    expect(RouteSettings["POST /github/secret-scanning"]).toEqual({
      ThrottlingRateLimit: ROUTE_THROTTLES.partnerWebhook.rateLimit,
      ThrottlingBurstLimit: ROUTE_THROTTLES.partnerWebhook.burstLimit,
    });
  });

  it("gives the form its own budget, above the old 5 rps for everyone", () => {
    const reports = stage().RouteSettings["POST /reports"];
    expect(reports).toEqual({
      ThrottlingRateLimit: ROUTE_THROTTLES.reports.rateLimit,
      ThrottlingBurstLimit: ROUTE_THROTTLES.reports.burstLimit,
    });
    expect(reports?.ThrottlingRateLimit).toBeGreaterThan(5);
  });

  it("keeps everything else (console, pages, unknown routes) on a smaller stage default", () => {
    const { DefaultRouteSettings } = stage();
    expect(DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: ROUTE_THROTTLES.stageDefault.rateLimit,
      ThrottlingBurstLimit: ROUTE_THROTTLES.stageDefault.burstLimit,
    });
    expect(ROUTE_THROTTLES.stageDefault.rateLimit).toBeLessThan(ROUTE_THROTTLES.partnerWebhook.rateLimit);
  });
});

describe("CloudFront + WAF front, enabled by context", () => {
  it("puts a distribution in front of the API with the web ACL attached", () => {
    keywatch.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        WebACLId: { "Fn::GetAtt": [Match.stringLikeRegexp("^EdgeWebAcl"), "Arn"] },
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: "https-only",
          AllowedMethods: Match.arrayWith(["POST"]),
        }),
      }),
    });
  });

  it("limits each IP on /reports with a rate-based rule that blocks", () => {
    keywatch.hasResourceProperties("AWS::WAFv2::WebACL", {
      Scope: "CLOUDFRONT",
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: "ReportsPerIp",
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: Match.objectLike({
              AggregateKeyType: "IP",
              Limit: EDGE_RATE_LIMITS.reportsPerIp,
              ScopeDownStatement: {
                ByteMatchStatement: Match.objectLike({
                  SearchString: "/reports",
                  PositionalConstraint: "STARTS_WITH",
                }),
              },
            }),
          },
        }),
      ]),
    });
  });

  it("also limits each IP on the webhook and on any path", () => {
    const acl = Object.values(keywatch.findResources("AWS::WAFv2::WebACL"))[0];
    const rules = (acl?.Properties.Rules ?? []) as {
      Name: string;
      Statement: { RateBasedStatement?: { Limit: number } };
    }[];
    const limits = Object.fromEntries(rules.map((r) => [r.Name, r.Statement.RateBasedStatement?.Limit]));
    expect(limits).toMatchObject({
      WebhookPerIp: EDGE_RATE_LIMITS.webhookPerIp,
      AnyPathPerIp: EDGE_RATE_LIMITS.anyPathPerIp,
    });
  });

  it("lets GitHub's large signed deliveries through the common rule set's 8 KB body rule", () => {
    keywatch.hasResourceProperties("AWS::WAFv2::WebACL", {
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: "AWSManagedRulesCommonRuleSet",
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              RuleActionOverrides: [{ Name: "SizeRestrictions_BODY", ActionToUse: { Count: {} } }],
            }),
          },
        }),
      ]),
    });
  });

  it("proves each origin request came through it, and names the viewer in a header the client can't set", () => {
    const distribution = Object.values(keywatch.findResources("AWS::CloudFront::Distribution"))[0];
    const config = JSON.stringify(distribution?.Properties.DistributionConfig);
    // The origin secret is a Secrets Manager dynamic reference, never a literal in the template.
    expect(config).toContain(`"HeaderName":"${ORIGIN_VERIFY_HEADER}"`);
    expect(config).toMatch(/resolve:secretsmanager:/);
    expect(config).toMatch(/"EventType":"viewer-request"/);
    keywatch.hasResourceProperties("AWS::CloudFront::Function", {
      FunctionCode: Match.stringLikeRegexp(`${VIEWER_ADDRESS_HEADER}.*event\\.viewer\\.ip`),
    });
  });

  it("makes the report form trust only that viewer address, with read access to the secret", () => {
    const forms = keywatch.findResources("AWS::Lambda::Function", {
      Properties: {
        Environment: { Variables: Match.objectLike({ ORIGIN_VERIFY_SECRET_ID: Match.anyValue() }) },
      },
    });
    expect(Object.keys(forms)).toHaveLength(1);
    expect(Object.keys(forms)[0]).toMatch(/^ReportFormApi/);
    const policies = JSON.stringify(keywatch.findResources("AWS::IAM::Policy"));
    expect(policies).toMatch(/EdgeOriginVerify[0-9A-F]+/);
  });

  it("refuses to deploy its own web ACL outside us-east-1 (a CloudFront ACL can't live elsewhere)", () => {
    const rules = keywatch.toJSON().Rules as Record<string, { Assertions: { Assert: unknown }[] }>;
    const assertion = Object.values(rules).flatMap((rule) => rule.Assertions)[0];
    expect(JSON.stringify(assertion?.Assert)).toContain("us-east-1");
  });
});

describe("EdgeProtection on its own", () => {
  function apiStack(context: Record<string, string> = {}) {
    const app = new App({ context });
    const stack = new Stack(app, "Edge", { env: { account: "111111111111", region: "eu-west-1" } });
    const api = new PublicApi(stack, "Api");
    const fn = new LambdaFunction(stack, "Fn", {
      runtime: Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: Code.fromInline("exports.handler = async () => ({ statusCode: 200 })"),
    });
    api.route(HttpMethod.GET, "/healthz", fn);
    return { app, stack, api };
  }

  it("is off unless context keywatch:edge is true", () => {
    expect(EdgeProtection.enabled(apiStack().stack)).toBe(false);
    expect(EdgeProtection.enabled(apiStack({ "keywatch:edge": "true" }).stack)).toBe(true);
  });

  it("uses a web ACL made in us-east-1 when given its ARN, and makes none itself", () => {
    const { stack, api } = apiStack();
    const arn = "arn:aws:wafv2:us-east-1:111111111111:global/webacl/keywatch/abc";
    new EdgeProtection(stack, "Front", { api, webAclArn: arn });
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::WAFv2::WebACL", 0);
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({ WebACLId: arn }),
    });
  });

  it("has no unacknowledged cdk-nag finding of its own", () => {
    const { app, stack, api } = apiStack();
    new EdgeProtection(stack, "Front", { api });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let message = "";
    try {
      app.synth();
    } catch (error) {
      message = (error as Error).message;
    }
    // The bare test Lambda and API have findings of their own; none may come from the front.
    expect(message).not.toMatch(/Front\/(Distribution|WebAcl)/);
  });
});
