import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";

/**
 * The access-log line DESIGN.md "Access logs and anomalies" fixes, from API Gateway `$context`.
 * keyId, projectId and country come from the key authorizer's context (HTTP APIs have no
 * viewer-country variable: the authorizer copies CloudFront-Viewer-Country when present).
 */
export const ACCESS_LOG_FIELDS = {
  requestId: "$context.requestId",
  time: "$context.requestTimeEpoch",
  ip: "$context.identity.sourceIp",
  method: "$context.httpMethod",
  path: "$context.path",
  status: "$context.status",
  keyId: "$context.authorizer.keyId",
  projectId: "$context.authorizer.projectId",
  country: "$context.authorizer.country",
  userAgent: "$context.identity.userAgent",
} as const;

/** The same line as an API Gateway access-log format. */
export const ACCESS_LOG_FORMAT = AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS));
