import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { ACCESS_LOG_FIELDS } from "../../lib/constructs/access-log-format.js";
import { synthKeywatch } from "../support/synth.js";

const detector = { Description: Match.stringLikeRegexp("access logs") };

describe("anomaly detection: access logs", () => {
  it("switches the adopted stage to the DESIGN.md JSON access-log line", () => {
    const format = synthKeywatch().stateless.findResources("AWS::ApiGatewayV2::Stage");
    const formats = Object.values(format).map(
      (stage) => JSON.parse(stage.Properties.AccessLogSettings.Format) as Record<string, string>,
    );
    expect(formats).toContainEqual(ACCESS_LOG_FIELDS);
  });

  it("includes the authorizer's keyId and projectId in the line", () => {
    expect(ACCESS_LOG_FIELDS).toMatchObject({
      keyId: "$context.authorizer.keyId",
      projectId: "$context.authorizer.projectId",
      time: "$context.requestTimeEpoch",
      ip: "$context.identity.sourceIp",
    });
  });

  it("subscribes the stage's log group to the detector Lambda", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::Logs::SubscriptionFilter", {
      FilterPattern: "",
      DestinationArn: Match.objectLike({
        "Fn::GetAtt": Match.arrayWith([Match.stringLikeRegexp("Detector")]),
      }),
    });
  });
});

describe("anomaly detection: detector function", () => {
  it("is invoked asynchronously with retries and a dead-letter queue", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: Match.objectLike({ Ref: Match.stringLikeRegexp("AnomalyDetectionDetector") }),
      MaximumRetryAttempts: 2,
    });
    synthKeywatch().stateless.hasResourceProperties("AWS::Lambda::Function", {
      ...detector,
      DeadLetterConfig: { TargetArn: Match.anyValue() },
    });
  });

  it("reads its tables, topic, pepper and offline country database from the environment", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::Lambda::Function", {
      ...detector,
      Environment: {
        Variables: Match.objectLike({
          KEYS_TABLE: Match.anyValue(),
          ANOMALIES_TABLE: Match.anyValue(),
          STATE_TABLE: Match.anyValue(),
          SECURITY_TOPIC_ARN: Match.anyValue(),
          IP_PEPPER_SECRET_ARN: Match.anyValue(),
          GEO_DB_PATH: "/var/task/geo-whois-asn-country.mmdb",
        }),
      },
    });
  });

  it("alarms when the dead-letter queue holds a batch", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [
        {
          Name: "QueueName",
          Value: Match.objectLike({
            "Fn::GetAtt": Match.arrayWith([Match.stringLikeRegexp("AnomalyDetection")]),
          }),
        },
      ],
    });
  });

  it("keeps the IP pepper in Secrets Manager, retained on delete", () => {
    const secrets = synthKeywatch().stateless.findResources("AWS::SecretsManager::Secret", {
      Properties: { Description: Match.stringLikeRegexp("pepper") },
    });
    const [secret] = Object.values(secrets);
    expect(secret?.DeletionPolicy).toBe("Retain");
  });
});
