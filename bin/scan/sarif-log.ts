import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";

/** One reported key, as the CLI prints it: no raw key, only its redacted form and hash. */
export interface ReportedKey {
  file: string;
  line: number;
  column: number;
  redacted: string;
  keyHash: string;
}

export const SARIF_RULE_ID = "keywatch/leaked-api-key";
export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** A SARIF artifact URI: a file URL for absolute paths, a percent-encoded relative reference otherwise. */
export function artifactUri(file: string): string {
  if (isAbsolute(file)) return pathToFileURL(file).href;
  return file.split(/[\\/]/).map(encodeURIComponent).join("/");
}

/** One SARIF 2.1.0 log with one run: the rule, then one result per key found. */
export function sarifLog(keys: readonly ReportedKey[], toolVersion: string): object {
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "keywatch",
            version: toolVersion,
            rules: [
              {
                id: SARIF_RULE_ID,
                name: "LeakedApiKey",
                shortDescription: { text: "Smelter API key in source or binary" },
                fullDescription: {
                  text: "A string with a Smelter key prefix, a 32-character base62 body and a matching CRC-32 check: a real key, not a look-alike.",
                },
                help: {
                  text: "Remove the key from the file and its history, then revoke it and issue a new one; treat it as compromised.",
                },
                defaultConfiguration: { level: "error" },
              },
            ],
          },
        },
        columnKind: "unicodeCodePoints",
        results: keys.map((key) => ({
          ruleId: SARIF_RULE_ID,
          ruleIndex: 0,
          level: "error",
          message: { text: `Smelter API key ${key.redacted} found; revoke it and remove it from history.` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifactUri(key.file) },
                region: { startLine: key.line, startColumn: key.column },
              },
            },
          ],
          partialFingerprints: { "keyHash/v1": key.keyHash },
        })),
      },
    ],
  };
}
