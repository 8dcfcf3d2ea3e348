import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";

export class SecretUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SecretUnavailableError";
  }
}

/** Secrets Manager with bounded timeouts and the SDK's standard retries, so a cold start can't hang. */
export function createSecretsClient(): SecretsManagerClient {
  return new SecretsManagerClient({
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 3_000 }),
  });
}

/** Reads a secret's string value once (callers cache it for the life of the Lambda). */
export async function readSecretString(
  secretId: string,
  client: SecretsManagerClient = createSecretsClient(),
): Promise<string> {
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    throw new SecretUnavailableError(`secret ${secretId} could not be read`, { cause: error });
  }
  if (!value) throw new SecretUnavailableError(`secret ${secretId} has no string value`);
  return value;
}
