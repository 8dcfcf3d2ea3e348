import { describe, expect, it } from "vitest";
import {
  clientAddress,
  ORIGIN_VERIFY_HEADER,
  VIEWER_ADDRESS_HEADER,
} from "../../lambdas/domain/client-address.js";

const EDGE_IP = "130.176.1.20"; // a CloudFront edge: what API Gateway sees as sourceIp behind the front
const SECRET = "s3cr3t-origin-verify-value-48-characters-long-xx";

describe("the client's address", () => {
  it("is API Gateway's source address when there is no front", () => {
    expect(
      clientAddress({ sourceIp: "198.51.100.7", headers: { [VIEWER_ADDRESS_HEADER]: "1.2.3.4" } }, undefined),
    ).toEqual({
      kind: "address",
      ip: "198.51.100.7",
    });
  });

  it("is the viewer CloudFront names when the origin secret matches", () => {
    const headers = { [ORIGIN_VERIFY_HEADER]: SECRET, [VIEWER_ADDRESS_HEADER]: "2001:db8::5" };
    expect(clientAddress({ sourceIp: EDGE_IP, headers }, SECRET)).toEqual({
      kind: "address",
      ip: "2001:db8::5",
    });
  });

  it("reads the headers whatever their case", () => {
    const headers = { "X-Keywatch-Origin-Verify": SECRET, "X-Keywatch-Viewer-Address": "203.0.113.9" };
    expect(clientAddress({ sourceIp: EDGE_IP, headers }, SECRET)).toEqual({
      kind: "address",
      ip: "203.0.113.9",
    });
  });

  it("refuses a request sent around the front, even one that forges the viewer header", () => {
    const forged = { [VIEWER_ADDRESS_HEADER]: "203.0.113.9" };
    expect(clientAddress({ sourceIp: "198.51.100.7", headers: forged }, SECRET)).toEqual({
      kind: "bypassed_front",
    });
    const wrong = { ...forged, [ORIGIN_VERIFY_HEADER]: `${SECRET.slice(0, -1)}y` };
    expect(clientAddress({ sourceIp: "198.51.100.7", headers: wrong }, SECRET)).toEqual({
      kind: "bypassed_front",
    });
    const short = { ...forged, [ORIGIN_VERIFY_HEADER]: "s3cr3t" };
    expect(clientAddress({ sourceIp: "198.51.100.7", headers: short }, SECRET)).toEqual({
      kind: "bypassed_front",
    });
  });

  it("refuses a verified request whose viewer header is not an address", () => {
    for (const viewer of [undefined, "", "not-an-ip", "1.2.3.4, 5.6.7.8"]) {
      const headers: Record<string, string | undefined> = {
        [ORIGIN_VERIFY_HEADER]: SECRET,
        [VIEWER_ADDRESS_HEADER]: viewer,
      };
      expect(clientAddress({ sourceIp: EDGE_IP, headers }, SECRET)).toEqual({ kind: "bypassed_front" });
    }
  });
});
