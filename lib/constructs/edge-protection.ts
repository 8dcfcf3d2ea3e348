import { CfnOutput, CfnRule, Fn, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  Function as ViewerFunction,
  ViewerProtocolPolicy,
} from "aws-cdk-lib/aws-cloudfront";
import { HttpOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { CfnWebACL } from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";
import { ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER } from "../../lambdas/domain/client-address.js";
import type { PublicApi } from "./public-api.js";

/** Context key that turns the front on (`-c keywatch:edge=true`). */
export const EDGE_CONTEXT = "keywatch:edge";
/** Context key naming a web ACL made elsewhere (in us-east-1) when this stack is in another region. */
export const EDGE_WEB_ACL_CONTEXT = "keywatch:edgeWebAclArn";

/**
 * Per-IP request limits of the web ACL, per 5-minute window (WAF's rate-based rules count per
 * source IP over a sliding window; 10 is WAF's minimum limit).
 */
export const EDGE_RATE_LIMITS = {
  /** The report form: 10 reports/hour per network are accepted anyway; 100 in 5 minutes is a script. */
  reportsPerIp: 100,
  /**
   * The partner webhook: GitHub delivers from a few addresses, a few per second at most; 20/s
   * sustained from one address is a flood of forged deliveries.
   */
  webhookPerIp: 6_000,
  /** Anything, any path: a single client past this is not a person at a console. */
  anyPathPerIp: 2_000,
} as const;

const WINDOW_SECONDS = 300;

function visibility(name: string): CfnWebACL.VisibilityConfigProperty {
  return {
    cloudWatchMetricsEnabled: true,
    metricName: `keywatch-edge-${name}`,
    sampledRequestsEnabled: true,
  };
}

function pathStartsWith(path: string): CfnWebACL.StatementProperty {
  return {
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: "STARTS_WITH",
      searchString: path,
      textTransformations: [{ priority: 0, type: "NONE" }],
    },
  };
}

function perIpRule(name: string, priority: number, limit: number, path?: string): CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        aggregateKeyType: "IP",
        limit,
        evaluationWindowSec: WINDOW_SECONDS,
        ...(path ? { scopeDownStatement: pathStartsWith(path) } : {}),
      },
    },
    visibilityConfig: visibility(name),
  };
}

function managedRules(name: string, priority: number, countInstead: string[] = []): CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: "AWS",
        name,
        ...(countInstead.length
          ? { ruleActionOverrides: countInstead.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
          : {}),
      },
    },
    visibilityConfig: visibility(name),
  };
}

/**
 * The WAF web ACL of the CloudFront front: per-IP rate-based rules (form, webhook, any path) and
 * AWS's baseline managed rules. A CloudFront web ACL must live in us-east-1.
 */
export class EdgeWebAcl extends Construct {
  readonly acl: CfnWebACL;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.acl = new CfnWebACL(this, "Acl", {
      name: `keywatch-edge-${Stack.of(this).stackName}`,
      description: "keywatch: per-IP rate limits in front of the public API - form, partner webhook, console",
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      visibilityConfig: visibility("acl"),
      rules: [
        perIpRule("ReportsPerIp", 0, EDGE_RATE_LIMITS.reportsPerIp, "/reports"),
        perIpRule("WebhookPerIp", 1, EDGE_RATE_LIMITS.webhookPerIp, "/github/secret-scanning"),
        perIpRule("AnyPathPerIp", 2, EDGE_RATE_LIMITS.anyPathPerIp),
        managedRules("AWSManagedRulesKnownBadInputsRuleSet", 3),
        // GitHub posts up to 1,000 alerts in one signed body, far past the set's 8 KB body rule.
        managedRules("AWSManagedRulesCommonRuleSet", 4, ["SizeRestrictions_BODY"]),
      ],
    });
  }
}

export interface EdgeProtectionProps {
  api: PublicApi;
  /** A web ACL made in us-east-1; without it one is made here, and the stack must be in us-east-1. */
  webAclArn?: string;
}

/**
 * Optional CloudFront + WAF front for the public API (issue 13 item 9), on with context
 * `keywatch:edge=true`. HTTP APIs can't take a web ACL themselves, so CloudFront carries it;
 * nothing is cached, every method and header except Host is forwarded. See docs/deploy.md
 * for what changes with it (client IPs, the execute-api URL still being reachable).
 */
export class EdgeProtection extends Construct {
  readonly distribution: Distribution;
  readonly webAclArn: string;
  /**
   * The secret CloudFront adds to every origin request (ORIGIN_VERIFY_HEADER): functions that key
   * anything on the client's address read it and trust the viewer address only with it.
   */
  readonly originVerify: Secret;

  static enabled(scope: Construct): boolean {
    return String(scope.node.tryGetContext(EDGE_CONTEXT) ?? "false") === "true";
  }

  constructor(scope: Construct, id: string, props: EdgeProtectionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.webAclArn) {
      this.webAclArn = props.webAclArn;
    } else {
      this.webAclArn = new EdgeWebAcl(this, "WebAcl").acl.attrArn;
      // Fails the deployment with a clear message instead of WAF's "scope not valid" half-way through.
      new CfnRule(this, "WebAclRegion", {
        assertions: [
          {
            assert: Fn.conditionEquals(stack.region, "us-east-1"),
            assertDescription: `A CloudFront web ACL can only be made in us-east-1: deploy this stack there, or make the ACL there (EdgeWebAcl) and pass its ARN as context ${EDGE_WEB_ACL_CONTEXT}.`,
          },
        ],
      });
    }
    const apiDomain = `${props.api.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.originVerify = new Secret(this, "OriginVerify", {
      description:
        "keywatch: header value CloudFront adds to origin requests, proving they passed the WAF front",
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      // Only proves the path a request took; a new one is made on the next deploy if it is lost.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.originVerify).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "CloudFront reads it from the template at deploy time (a dynamic reference), so a rotation Lambda would break " +
        "the front until the next deploy; rotate by updating the secret and redeploying (docs/deploy.md).",
    });
    // CloudFront Functions see the viewer's address; set on the request it replaces anything the client sent.
    const viewerAddress = new ViewerFunction(this, "ViewerAddress", {
      comment: "keywatch: pass the viewer's IP to the origin in a header the client can't set",
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(
        `function handler(event) { event.request.headers["${VIEWER_ADDRESS_HEADER}"] = { value: event.viewer.ip }; return event.request; }`,
      ),
    });
    this.distribution = new Distribution(this, "Distribution", {
      comment: "keywatch: WAF front of the public API",
      webAclId: this.webAclArn,
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: new HttpOrigin(apiDomain, {
          protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
          // CloudFront replaces a viewer-sent header of this name with this value.
          customHeaders: { [ORIGIN_VERIFY_HEADER]: this.originVerify.secretValue.unsafeUnwrap() },
        }),
        functionAssociations: [{ function: viewerAddress, eventType: FunctionEventType.VIEWER_REQUEST }],
        // POSTs (form, webhook) can't follow a redirect: plain HTTP is refused outright.
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_ALL,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        // The signature headers, cookies and query strings reach the API as sent; Host is the API's own.
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: "AwsSolutions-CFR1",
        reason:
          "No geo restriction: leaked keys are reported, and GitHub delivers, from anywhere; abuse is limited per IP by the web ACL.",
      },
      {
        id: "AwsSolutions-CFR3",
        reason:
          "Every request that passes reaches the API stage, whose access log (DESIGN.md format, 30 days) records it; " +
          "blocked requests are counted and sampled by the web ACL's metrics. A second log bucket would duplicate source IPs.",
      },
      {
        id: "AwsSolutions-CFR4",
        reason:
          "No custom domain, so the default *.cloudfront.net certificate (whose TLS policy can't be set) is used; " +
          "docs/deploy.md says how to add a domain with TLSv1.2_2021.",
      },
    );
    new CfnOutput(this, "Url", {
      value: `https://${this.distribution.distributionDomainName}`,
      description: "keywatch public API behind CloudFront + WAF: register the webhook and link the form here",
    });
  }
}
