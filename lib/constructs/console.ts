import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Validations } from "aws-cdk-lib";
import { HttpMethod } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpUserPoolAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import {
  AccountRecovery,
  AdvancedSecurityMode,
  CfnUserPoolGroup,
  FeaturePlan,
  Mfa,
  OAuthScope,
  UserPool,
  type UserPoolClient,
} from "aws-cdk-lib/aws-cognito";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { CONSOLE_PAGE_PATHS } from "../../lambdas/handlers/console.js";
import { CONSOLE_API_ROUTES, RESPONDERS_GROUP } from "../../lambdas/handlers/console-api.js";
import { KeywatchFunction } from "./keywatch-function.js";
import type { PublicApi } from "./public-api.js";
import { TABLE_ACCESS } from "./table-access.js";

export interface ConsoleProps {
  api: PublicApi;
  incidents: ITable;
  anomalies: ITable;
  keys: ITable;
  notifications: ITable;
  reports: ITable;
  state: ITable;
  keyPrefixes: string;
  alarmTopic: ITopic;
  dataKey: IKey;
  /**
   * The hosted sign-in's domain prefix. Prefixes are global across AWS accounts in a region, so
   * the default is derived from this stack's unique id (a second deployment gets its own).
   */
  domainPrefix?: string;
}

/**
 * A prefix no other deployment has: `keywatch-` + the first group of the CloudFormation stack
 * id's UUID (fixed for the stack's life, different for every stack, lower-case hex).
 */
function stackUniquePrefix(): string {
  return Fn.join("-", ["keywatch", Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", Aws.STACK_ID))))]);
}

/**
 * The security team's console on the public HTTP API. Authentication is a Cognito user pool
 * and the HTTP API's JWT authorizer, not IAM: the console is used from a browser, where a
 * hosted sign-in with MFA and a bearer token is natural, while IAM would need SigV4-signing
 * credentials in the page. Accounts are created by an administrator only (no self sign-up).
 */
export class Console extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly page: KeywatchFunction;
  readonly consoleApi: KeywatchFunction;

  constructor(scope: Construct, id: string, props: ConsoleProps) {
    super(scope, id);
    const consoleUrl = `${props.api.api.apiEndpoint}/console`;
    this.userPool = new UserPool(this, "Users", {
      userPoolName: "keywatch-security-team",
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.PLUS,
      // Deprecated name, but what cdk-nag's COG3 checks: threat protection in full-function mode.
      advancedSecurityMode: AdvancedSecurityMode.ENFORCED,
      // Users are identities of the security team: keep them if the stateless stack is replaced.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const domain = this.userPool.addDomain("SignIn", {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? stackUniquePrefix() },
    });
    // Members may act on incidents and anomalies; every other user of the pool reads.
    new CfnUserPoolGroup(this, "Responders", {
      userPoolId: this.userPool.userPoolId,
      groupName: RESPONDERS_GROUP,
      description:
        "keywatch console: may acknowledge, resolve, assign, comment, revoke keys, triage anomalies",
    });
    this.client = this.userPool.addClient("ConsoleClient", {
      generateSecret: false,
      preventUserExistenceErrors: true,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID],
        callbackUrls: [consoleUrl],
        logoutUrls: [consoleUrl],
      },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });

    const common = { alarmTopic: props.alarmTopic, dataKey: props.dataKey };
    this.page = new KeywatchFunction(this, "Page", {
      ...common,
      handler: "console",
      description: "keywatch: security console page (static)",
      memorySize: 128,
      environment: { CONSOLE_AUTH_DOMAIN: domain.baseUrl(), CONSOLE_CLIENT_ID: this.client.userPoolClientId },
    });
    this.consoleApi = new KeywatchFunction(this, "Api", {
      ...common,
      handler: "console-api",
      description: "keywatch: security console API (incident queue, actions, anomaly triage, health)",
      environment: { KEYWATCH_KEY_PREFIXES: props.keyPrefixes, CONSOLE_RESPONDERS_GROUP: RESPONDERS_GROUP },
    })
      .useTable("incidents", props.incidents, TABLE_ACCESS.consoleApi.incidents)
      // Triage is a `triage` attribute on the anomaly item (UpdateItem).
      .useTable("anomalies", props.anomalies, TABLE_ACCESS.consoleApi.anomalies)
      // Revoke from the incident page.
      .useTable("keys", props.keys, TABLE_ACCESS.consoleApi.keys)
      .useTable("notifications", props.notifications, TABLE_ACCESS.consoleApi.notifications)
      .useTable("reports", props.reports, TABLE_ACCESS.consoleApi.reports)
      .useTable("state", props.state, TABLE_ACCESS.consoleApi.state);

    for (const path of CONSOLE_PAGE_PATHS) {
      const before = new Set(props.api.api.node.children);
      props.api.route(HttpMethod.GET, path, this.page.fn);
      for (const route of props.api.api.node.children.filter((child) => !before.has(child))) {
        Validations.of(route).acknowledge({
          id: "AwsSolutions-APIG4",
          reason:
            "Static console shell (HTML/JS/CSS, sign-in config): no data; every /api route needs a JWT.",
        });
      }
    }
    const authorizer = new HttpUserPoolAuthorizer("ConsoleAuthorizer", this.userPool, {
      userPoolClients: [this.client],
    });
    for (const { method, path } of CONSOLE_API_ROUTES)
      props.api.route(
        method === "GET" ? HttpMethod.GET : HttpMethod.POST,
        path,
        this.consoleApi.fn,
        authorizer,
      );

    new CfnOutput(this, "ConsoleUrl", { value: consoleUrl, description: "keywatch security console" });
    new CfnOutput(this, "UserPoolId", {
      value: this.userPool.userPoolId,
      description: "Add security-team members here (aws cognito-idp admin-create-user)",
    });
  }
}
