import { App, type StackProps, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { StatefulStack } from "./stateful-stack.js";
import { StatelessStack } from "./stateless-stack.js";

/** Context every keywatch app is synthesized with (cdk.json carries the same). */
export const KEYWATCH_CONTEXT = { "@aws-cdk/core:defaultCrossStackReferences": "strong" };

export interface KeywatchApp {
  app: App;
  stateful: StatefulStack;
  stateless: StatelessStack;
}

/** Builds the two stacks with cdk-nag's AwsSolutions checks attached (they run on synth). */
export function buildKeywatchApp(
  app: App = new App({ context: KEYWATCH_CONTEXT }),
  props: StackProps = {},
): KeywatchApp {
  const keyPrefixes = String(app.node.tryGetContext("keywatch:keyPrefixes") ?? "smk_");
  const stateful = new StatefulStack(app, "KeywatchStateful", props);
  const stateless = new StatelessStack(app, "KeywatchStateless", { ...props, stateful, keyPrefixes });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stateful, stateless };
}
