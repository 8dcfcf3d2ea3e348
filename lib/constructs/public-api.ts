import { CfnOutput, RemovalPolicy } from "aws-cdk-lib";
import {
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
      throttle: { rateLimit: props.rateLimit ?? 50, burstLimit: props.burstLimit ?? 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });
    new CfnOutput(this, "Url", { value: this.api.apiEndpoint, description: "keywatch public API base URL" });
  }

  /** Routes `METHOD path` to a function, optionally behind an authorizer. */
  route(method: HttpMethod, path: string, fn: IFunction, authorizer?: IHttpRouteAuthorizer): void {
    const integration = new HttpLambdaIntegration(`${method}${path.replace(/[^A-Za-z0-9]/g, "")}`, fn);
    this.api.addRoutes({ path, methods: [method], integration, ...(authorizer ? { authorizer } : {}) });
  }
}
