import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";

/** GitHub's published schemas (standin/github/openapi/), for checking what the stand-in serves. */
export const GITHUB_SCHEMAS = fileURLToPath(new URL("../../standin/github/openapi", import.meta.url));
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

/** OpenAPI 3.0 `nullable` without a `type` (on allOf/anyOf nodes) in the JSON Schema ajv understands. */
export function nullableToAnyOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableToAnyOf);
  if (node === null || typeof node !== "object") return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const mapped = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, nullableToAnyOf(v)]));
  if (nullable !== true) return mapped;
  if ("type" in mapped) return { ...mapped, nullable: true };
  return { anyOf: [{ type: "null" }, mapped] };
}

/**
 * A validator for an endpoint's 200 response (dereferenced OpenAPI 3.0); event payloads' `oneOf`
 * is read as `anyOf` (its PublicEvent member `{}` matches everything, so oneOf could never hold).
 */
export function responseValidator(file: string): (data: unknown) => unknown[] {
  const spec = JSON.parse(readFileSync(`${GITHUB_SCHEMAS}/${file}`, "utf8"));
  const schema = JSON.parse(
    JSON.stringify(nullableToAnyOf(spec.responses["200"].content["application/json"].schema)).replaceAll(
      '"oneOf"',
      '"anyOf"',
    ),
  );
  const validate = githubAjv().compile(schema);
  return (data) => (validate(data) ? [] : (validate.errors ?? []).slice(0, 5));
}

/** ajv set up for GitHub's schemas (formats, and its non-standard `uri-template`). */
export function githubAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("uri-template", true);
  return ajv;
}
