import { describe, expect, it } from "vitest";
import { makeConsolePageHandler } from "../../lambdas/handlers/console.js";
import { httpEvent } from "../support/http-event.js";

const page = makeConsolePageHandler({ auth: "none" });

describe("GET /console", () => {
  it("serves HTML whose CSP allows no inline script or style", async () => {
    const result = await page(httpEvent("GET /console"));
    const csp = String(result.headers?.["content-security-policy"]);
    expect([csp.includes("script-src 'self'"), csp.includes("unsafe-inline")]).toEqual([true, false]);
  });

  it("contains no inline script or style element", async () => {
    const html = String((await page(httpEvent("GET /console"))).body);
    expect([
      /<script(?![^>]*\bsrc=)[^>]*>/i.test(html),
      /<style/i.test(html),
      /\son\w+=/i.test(html),
    ]).toEqual([false, false, false]);
  });

  it("denies framing", async () => {
    const result = await page(httpEvent("GET /console"));
    expect(result.headers?.["x-frame-options"]).toBe("DENY");
  });

  it("serves the script as JavaScript", async () => {
    const result = await page(httpEvent("GET /console/app.js", { path: "/console/app.js" }));
    expect([result.statusCode, result.headers?.["content-type"]]).toEqual([
      200,
      "text/javascript; charset=utf-8",
    ]);
  });

  it("tells the page how to sign in when deployed with Cognito", async () => {
    const deployed = makeConsolePageHandler({
      auth: "cognito",
      domain: "https://kw.auth.eu-west-1.amazoncognito.com",
      clientId: "abc",
    });
    const result = await deployed(httpEvent("GET /console/config.json", { path: "/console/config.json" }));
    expect(JSON.parse(String(result.body))).toEqual({
      auth: "cognito",
      domain: "https://kw.auth.eu-west-1.amazoncognito.com",
      clientId: "abc",
    });
  });
});
