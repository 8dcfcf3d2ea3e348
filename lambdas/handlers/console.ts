import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { z } from "zod";
import { readEnv } from "../adapters/config.js";
import { CONSOLE_CSS, CONSOLE_HTML, CONSOLE_JS } from "./console-assets.js";

/** How the page signs people in: nowhere locally, Cognito's hosted UI when deployed. */
export type ConsoleAuth = { auth: "none" } | { auth: "cognito"; domain: string; clientId: string };

const ConsoleEnvSchema = z
  .object({ CONSOLE_AUTH_DOMAIN: z.string().url(), CONSOLE_CLIENT_ID: z.string().min(1) })
  .transform(
    (env): ConsoleAuth => ({
      auth: "cognito",
      domain: env.CONSOLE_AUTH_DOMAIN,
      clientId: env.CONSOLE_CLIENT_ID,
    }),
  );

function securityHeaders(auth: ConsoleAuth): Record<string, string> {
  const connect = auth.auth === "cognito" ? `'self' ${new URL(auth.domain).origin}` : "'self'";
  return {
    // No inline script or style anywhere: the page loads app.js and app.css from this origin.
    "content-security-policy": `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${connect}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  };
}

/** `GET /console`, its script, style and sign-in config: static, no data (the data is behind /api). */
export function makeConsolePageHandler(auth: ConsoleAuth = { auth: "none" }) {
  const headers = securityHeaders(auth);
  const assets: Record<string, { type: string; body: string }> = {
    "/console": { type: "text/html; charset=utf-8", body: CONSOLE_HTML },
    "/console/app.js": { type: "text/javascript; charset=utf-8", body: CONSOLE_JS },
    "/console/app.css": { type: "text/css; charset=utf-8", body: CONSOLE_CSS },
    "/console/config.json": { type: "application/json", body: JSON.stringify(auth) },
  };
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const asset = assets[event.rawPath];
    if (!asset)
      return {
        statusCode: 404,
        headers: { ...headers, "content-type": "application/json" },
        body: '{"message":"Not Found"}',
      };
    return { statusCode: 200, headers: { ...headers, "content-type": asset.type }, body: asset.body };
  };
}

/** Paths the page handler serves (local server and API Gateway). */
export const CONSOLE_PAGE_PATHS = [
  "/console",
  "/console/app.js",
  "/console/app.css",
  "/console/config.json",
] as const;

let cold: ReturnType<typeof makeConsolePageHandler> | undefined;

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  cold ??= makeConsolePageHandler(readEnv(ConsoleEnvSchema));
  return cold(event);
}
