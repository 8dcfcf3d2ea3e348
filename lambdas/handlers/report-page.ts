import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { z } from "zod";
import { KeyPrefixesSchema, readEnv } from "../adapters/config.js";
import {
  REPORT_FORM_CSS,
  REPORT_FORM_JS,
  renderReportForm,
  SECURITY_HEADERS,
} from "../adapters/report-form-html.js";

/** The paths this function serves: the form and its two static assets (CSP forbids inline ones). */
export const REPORT_PAGE_PATHS = ["/report", "/report.js", "/report.css"] as const;

export interface ReportPageDeps {
  keyPrefixes: readonly string[];
}

/** `GET /report`, `GET /report.js`, `GET /report.css`: static content, built once. */
export function makeReportPageHandler(deps: ReportPageDeps) {
  const assets: Record<string, { type: string; body: string; cache: string }> = {
    "/report": {
      type: "text/html; charset=utf-8",
      body: renderReportForm({}, deps.keyPrefixes),
      cache: "no-cache",
    },
    "/report.js": {
      type: "text/javascript; charset=utf-8",
      body: REPORT_FORM_JS,
      cache: "public, max-age=300",
    },
    "/report.css": { type: "text/css; charset=utf-8", body: REPORT_FORM_CSS, cache: "public, max-age=300" },
  };
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const asset = assets[event.rawPath];
    if (!asset) {
      return {
        statusCode: 404,
        headers: { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" },
        body: "Not Found",
      };
    }
    return {
      statusCode: 200,
      headers: { ...SECURITY_HEADERS, "content-type": asset.type, "cache-control": asset.cache },
      body: asset.body,
    };
  };
}

let wired: ReturnType<typeof makeReportPageHandler> | undefined;

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  wired ??= makeReportPageHandler({
    keyPrefixes: readEnv(z.object({ KEYWATCH_KEY_PREFIXES: KeyPrefixesSchema })).KEYWATCH_KEY_PREFIXES,
  });
  return wired(event);
}
