import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";

/**
 * The access-log line DESIGN.md "Access logs and anomalies" fixes, from API Gateway `$context`.
 * keyId, projectId and country come from the key authorizer's context (HTTP APIs have no
 * viewer-country variable: the authorizer copies CloudFront-Viewer-Country when present).
 */
export const ACCESS_LOG_FIELDS = {
  // Client-controlled text first: if a gateway ever left a quote unescaped, a forged `"ip":…`
  // inside it comes before the real field, and JSON.parse keeps the last one. The parser also
  // refuses any line with a duplicate key (lambdas/domain/access-log.ts), so this is the second guard.
  userAgent: "$context.identity.userAgent",
  path: "$context.path",
  method: "$context.httpMethod",
  requestId: "$context.requestId",
  time: "$context.requestTimeEpoch",
  ip: "$context.identity.sourceIp",
  status: "$context.status",
  keyId: "$context.authorizer.keyId",
  projectId: "$context.authorizer.projectId",
  country: "$context.authorizer.country",
} as const;

/** The same line as an API Gateway access-log format. */
export const ACCESS_LOG_FORMAT = AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS));
