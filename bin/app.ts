#!/usr/bin/env node
import { App } from "aws-cdk-lib";
import { buildKeywatchApp } from "../lib/keywatch-app.js";

const app = new App();
buildKeywatchApp(app, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
