import { CfnOutput, Duration, Validations } from "aws-cdk-lib";
import { HttpMethod } from "aws-cdk-lib/aws-apigatewayv2";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { KeywatchFunction } from "./keywatch-function.js";
import { type PublicApi, ROUTE_THROTTLES } from "./public-api.js";
import { TABLE_ACCESS } from "./table-access.js";

export interface PartnerWebhookProps {
  api: PublicApi;
  keys: ITable;
  incidents: ITable;
  /** Where each delivery is recorded as the `partner_webhook` channel's health (console panel). */
  state: ITable;
  /** Comma-separated key prefixes: only tokens with one of them can be our keys. */
  keyPrefixes: string;
  /** Optional GitHub token (raises the rate limit of the public-keys endpoint); read at cold start. */
  githubToken?: ISecret;
  alarmTopic: ITopic;
  dataKey: IKey;
}

export const SECRET_SCANNING_PATH = "/github/secret-scanning";
export const DEFAULT_GITHUB_API_URL = "https://api.github.com";

/**
 * GitHub's secret-scanning partner endpoint: `POST /github/secret-scanning` → a function that
 * verifies GitHub's signature, records findings (DynamoDB only: emails leave from the incidents
 * stream) and answers labels. The GitHub API base URL comes from context `keywatch:githubApiUrl`.
 */
export class PartnerWebhook extends Construct {
  readonly function: KeywatchFunction;
  /** What to register with GitHub's partner program. */
  readonly endpointUrl: string;

  constructor(scope: Construct, id: string, props: PartnerWebhookProps) {
    super(scope, id);
    const githubApiUrl = String(this.node.tryGetContext("keywatch:githubApiUrl") ?? DEFAULT_GITHUB_API_URL);
    this.function = new KeywatchFunction(this, "Handler", {
      alarmTopic: props.alarmTopic,
      dataKey: props.dataKey,
      handler: "secret-scanning",
      description: "keywatch: GitHub secret-scanning partner webhook (verify, record, label)",
      memorySize: 512,
      // Ends before API Gateway's 30 s integration limit, which is also GitHub's response deadline.
      timeout: Duration.seconds(25),
      environment: {
        GITHUB_API_URL: githubApiUrl,
        KEYWATCH_KEY_PREFIXES: props.keyPrefixes,
        ...(props.githubToken ? { GITHUB_TOKEN_SECRET_ID: props.githubToken.secretArn } : {}),
      },
    })
      // recordFindings reads and quarantines keys, and opens incidents.
      .useTable("keys", props.keys, TABLE_ACCESS.recordFindings.keys)
      .useTable("incidents", props.incidents, TABLE_ACCESS.recordFindings.incidents)
      .useTable("state", props.state, TABLE_ACCESS.scannerHealth.state);
    props.githubToken?.grantRead(this.function.fn);

    const before = new Set(props.api.api.node.children);
    props.api.route(HttpMethod.POST, SECRET_SCANNING_PATH, this.function.fn);
    // Its own budget: a flood of junk on the form or elsewhere can't get GitHub's deliveries refused.
    props.api.throttleRoute(HttpMethod.POST, SECRET_SCANNING_PATH, ROUTE_THROTTLES.partnerWebhook);
    for (const route of props.api.api.node.children.filter((child) => !before.has(child))) {
      Validations.of(route).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "Called by GitHub's secret-scanning partner program, which can't present AWS credentials or tokens; " +
          "every request is authenticated in the handler by GitHub's ECDSA P-256 signature over the raw body " +
          "(401 otherwise) before anything is parsed or recorded.",
      });
    }

    this.endpointUrl = `${props.api.api.apiEndpoint}${SECRET_SCANNING_PATH}`;
    new CfnOutput(this, "EndpointUrl", {
      value: this.endpointUrl,
      description: "GitHub secret-scanning partner endpoint: register this URL with GitHub",
    });
  }
}
