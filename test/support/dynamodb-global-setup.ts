import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../../bin/local/dynamodb-local.js";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

/** One in-memory DynamoDB Local per test run; each test file creates its own uniquely named tables. */
export default async function setup(project: TestProject) {
  const dynamo = await startDynamoDbLocal();
  project.provide("dynamoDbEndpoint", dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}
