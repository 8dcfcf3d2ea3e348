import { Duration } from "aws-cdk-lib";
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { KeywatchFunction } from "./keywatch-function.js";
import { TABLE_ACCESS } from "./table-access.js";

export interface KeyAuthorizerProps {
  keysTable: ITable;
  alarmTopic: ITopic;
  dataKey: IKey;
  /** Comma-separated key prefixes the authorizer accepts. */
  keyPrefixes: string;
  /** In-memory cache of lookups in the function, at most 60 s. */
  cacheTtl?: Duration;
}

/**
 * The key authorizer an existing HTTP API adopts: `api.addRoutes({ ..., authorizer: keyAuthorizer.authorizer })`.
 * Denies compromised, revoked and unknown keys; passes `keyId` and `projectId` in the context
 * (`$context.authorizer.keyId` for the access logs the anomaly detector reads).
 */
export class KeyAuthorizer extends Construct {
  readonly function: KeywatchFunction;
  readonly authorizer: HttpLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: KeyAuthorizerProps) {
    super(scope, id);
    const ttl = Math.min(props.cacheTtl?.toMilliseconds() ?? 30_000, 60_000);
    this.function = new KeywatchFunction(this, "Function", {
      alarmTopic: props.alarmTopic,
      dataKey: props.dataKey,
      handler: "key-authorizer",
      description: "keywatch: API key authorizer (denies compromised, revoked and unknown keys)",
      memorySize: 256,
      timeout: Duration.seconds(5),
      environment: { KEY_PREFIXES: props.keyPrefixes, KEY_CACHE_TTL_MS: String(ttl) },
    }).useTable("keys", props.keysTable, TABLE_ACCESS.keyAuthorizer.keys);
    this.authorizer = new HttpLambdaAuthorizer("KeyAuthorizer", this.function.fn, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      // No API Gateway cache: a quarantined key must stop working within the function's own TTL.
      resultsCacheTtl: Duration.seconds(0),
      // Either header may carry the key, so no single identity source is required.
      identitySource: [],
    });
  }
}
