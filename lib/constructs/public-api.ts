import { CfnOutput, RemovalPolicy } from "aws-cdk-lib";
import {
  type CfnStage,
  HttpApi,
  type HttpMethod,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ACCESS_LOG_FORMAT } from "./access-log-format.js";

export interface RouteThrottle {
  /** Steady-state requests per second on the route, and the burst above it. */
  rateLimit: number;
  burstLimit: number;
}

/**
 * Per-route budgets (issue 13 item 9): API Gateway counts each route separately, so a flood on
 * one route (junk posted to the form, unauthenticated calls anywhere) can't spend another's.
 * The per-client limits are elsewhere: the form's per-network counter and the optional WAF.
 */
export const ROUTE_THROTTLES = {
  /** Routes without their own budget: console pages and API (JWT), healthz, the form's static page. */
  stageDefault: { rateLimit: 20, burstLimit: 40 },
  /**
   * GitHub's secret-scanning deliveries (1,000 alerts each at most, usually one per push): their
   * own budget, so junk on other routes never gets a real delivery refused.
   */
  partnerWebhook: { rateLimit: 100, burstLimit: 200 },
  /**
   * The public form: people typing, so dozens per second is already an attack; high enough that
   * one abuser's burst doesn't refuse everyone (the function allows 10 reports/hour per network).
   */
  reports: { rateLimit: 25, burstLimit: 50 },
} as const satisfies Record<string, RouteThrottle>;

export interface PublicApiProps {
  /** Steady-state requests per second across the stage, and the burst above it. */
  rateLimit?: number;
  burstLimit?: number;
}

/**
 * keywatch's public HTTP API (report form, partner webhook, console): one `$default` stage
 * with throttling and JSON access logs in the DESIGN.md line format, kept 30 days (they hold
 * source IPs: abuse control only).
 */
export class PublicApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: PublicApiProps = {}) {
    super(scope, id);
    this.api = new HttpApi(this, "Api", {
      createDefaultStage: false,
      description: "keywatch public endpoints",
    });
    this.accessLogs = new LogGroup(this, "AccessLogs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, "DefaultStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      throttle: {
        rateLimit: props.rateLimit ?? ROUTE_THROTTLES.stageDefault.rateLimit,
        burstLimit: props.burstLimit ?? ROUTE_THROTTLES.stageDefault.burstLimit,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });
    new CfnOutput(this, "Url", { value: this.api.apiEndpoint, description: "keywatch public API base URL" });
  }

  /** Gives `METHOD path` its own throttle instead of the stage default. */
  throttleRoute(method: HttpMethod, path: string, throttle: RouteThrottle): void {
    const stage = this.stage.node.defaultChild as CfnStage;
    stage.addPropertyOverride(`RouteSettings.${method} ${path}`, {
      ThrottlingRateLimit: throttle.rateLimit,
      ThrottlingBurstLimit: throttle.burstLimit,
    });
  }

  /** Routes `METHOD path` to a function, optionally behind an authorizer. */
  route(method: HttpMethod, path: string, fn: IFunction, authorizer?: IHttpRouteAuthorizer): void {
    const integration = new HttpLambdaIntegration(`${method}${path.replace(/[^A-Za-z0-9]/g, "")}`, fn);
    this.api.addRoutes({ path, methods: [method], integration, ...(authorizer ? { authorizer } : {}) });
  }
}
