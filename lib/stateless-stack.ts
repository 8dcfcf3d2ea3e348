import { Stack, type StackProps, Validations } from "aws-cdk-lib";
import { HttpMethod } from "aws-cdk-lib/aws-apigatewayv2";
import type { Construct } from "constructs";
import { AnomalyDetection } from "./constructs/anomaly-detection.js";
import { Console } from "./constructs/console.js";
import { EDGE_WEB_ACL_CONTEXT, EdgeProtection } from "./constructs/edge-protection.js";
import { GitHubScanners } from "./constructs/github-scanners.js";
import { GitHubWatcher } from "./constructs/github-watcher.js";
import { KeywatchFunction } from "./constructs/keywatch-function.js";
import { LeakResponse } from "./constructs/leak-response.js";
import { NotificationReconciler } from "./constructs/notification-reconciler.js";
import { PartnerWebhook } from "./constructs/partner-webhook.js";
import { PublicApi } from "./constructs/public-api.js";
import { ReportForm } from "./constructs/report-form.js";
import { UnknownKeyDigest } from "./constructs/unknown-key-digest.js";
import type { StatefulStack } from "./stateful-stack.js";

export interface StatelessStackProps extends StackProps {
  stateful: StatefulStack;
  /** Key prefixes the scanners look for (comma-separated), from context `keywatch:keyPrefixes`. */
  keyPrefixes: string;
}

/** Functions, API, schedules and alarms: safe to destroy and redeploy, holds no data. */
export class StatelessStack extends Stack {
  readonly publicApi: PublicApi;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { stateful } = props;
    const common = { alarmTopic: stateful.operationsAlarms, dataKey: stateful.dataKey };
    this.publicApi = new PublicApi(this, "PublicApi");

    const healthz = new KeywatchFunction(this, "Healthz", {
      ...common,
      handler: "healthz",
      description: "keywatch: liveness probe",
      memorySize: 128,
    });
    this.publicApi.route(HttpMethod.GET, "/healthz", healthz.fn);
    Validations.of(this.publicApi.api.node.findChild("GET--healthz")).acknowledge({
      id: "AwsSolutions-APIG4",
      reason: "Public liveness probe: returns a constant, reads no data.",
    });

    new Console(this, "Console", {
      ...common,
      api: this.publicApi,
      incidents: stateful.tables.incidents,
      anomalies: stateful.tables.anomalies,
      keys: stateful.tables.keys,
      notifications: stateful.tables.notifications,
      reports: stateful.tables.reports,
      state: stateful.tables.state,
      keyPrefixes: props.keyPrefixes,
    });
    // Created first so the partner webhook can fetch GitHub's public keys with the same token.
    const githubScanners = new GitHubScanners(this, "GitHubScanners", {
      ...common,
      tables: {
        keys: stateful.tables.keys,
        incidents: stateful.tables.incidents,
        state: stateful.tables.state,
      },
      keyPrefixes: props.keyPrefixes,
    });
    // Watch lists (issue 12 point 4): the same token, its own table for entries and feed cursors.
    new GitHubWatcher(this, "GitHubWatcher", {
      ...common,
      tables: {
        keys: stateful.tables.keys,
        incidents: stateful.tables.incidents,
        state: stateful.tables.state,
        watchList: stateful.tables.watchList,
      },
      keyPrefixes: props.keyPrefixes,
      scanners: githubScanners,
    });
    new PartnerWebhook(this, "PartnerWebhook", {
      ...common,
      api: this.publicApi,
      keys: stateful.tables.keys,
      incidents: stateful.tables.incidents,
      state: stateful.tables.state,
      keyPrefixes: props.keyPrefixes,
      githubToken: githubScanners.token,
    });
    const reportForm = new ReportForm(this, "ReportForm", {
      ...common,
      api: this.publicApi,
      keys: stateful.tables.keys,
      incidents: stateful.tables.incidents,
      reports: stateful.tables.reports,
      state: stateful.tables.state,
      keyPrefixes: props.keyPrefixes,
      securityAlerts: stateful.securityAlerts,
    });
    const leakResponse = new LeakResponse(this, "LeakResponse", {
      ...common,
      tables: {
        keys: stateful.tables.keys,
        incidents: stateful.tables.incidents,
        notifications: stateful.tables.notifications,
        reports: stateful.tables.reports,
      },
      securityAlerts: stateful.securityAlerts,
      keyEvents: stateful.keyEvents,
      keyPrefixes: props.keyPrefixes,
    });
    new UnknownKeyDigest(this, "UnknownKeyDigest", {
      ...common,
      tables: { incidents: stateful.tables.incidents, notifications: stateful.tables.notifications },
      securityAlerts: stateful.securityAlerts,
    });
    new NotificationReconciler(this, "NotificationReconciler", {
      ...common,
      tables: {
        keys: stateful.tables.keys,
        incidents: stateful.tables.incidents,
        notifications: stateful.tables.notifications,
        reports: stateful.tables.reports,
      },
      securityAlerts: stateful.securityAlerts,
      keyEvents: stateful.keyEvents,
      sesSender: leakResponse.sesSender,
    });
    // keywatch's own API adopts the access-log format; Smelter's API stages adopt the same construct.
    new AnomalyDetection(this, "AnomalyDetection", {
      ...common,
      stage: this.publicApi.stage,
      accessLogs: this.publicApi.accessLogs,
      tables: {
        keys: stateful.tables.keys,
        anomalies: stateful.tables.anomalies,
        state: stateful.tables.state,
      },
      securityAlerts: stateful.securityAlerts,
    });
    // Optional CloudFront + WAF front (docs/deploy.md), off unless `-c keywatch:edge=true`.
    if (EdgeProtection.enabled(this)) {
      const webAclArn = this.node.tryGetContext(EDGE_WEB_ACL_CONTEXT) as string | undefined;
      const edge = new EdgeProtection(this, "Edge", {
        api: this.publicApi,
        ...(webAclArn ? { webAclArn } : {}),
      });
      reportForm.trustFront(edge.originVerify);
    }
  }
}
