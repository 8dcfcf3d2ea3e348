import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";

/** GitHub's published schemas (../shared/github/), for checking what the stand-in serves. */
export const GITHUB_SCHEMAS = "/work/shared/github";
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

/** OpenAPI 3.0 `nullable` without a `type` (on allOf/anyOf nodes) in the JSON Schema ajv understands. */
function nullableToAnyOf(node: unknown): unknown {
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
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("uri-template", true);
  const validate = ajv.compile(schema);
  return (data) => (validate(data) ? [] : (validate.errors ?? []).slice(0, 5));
}
