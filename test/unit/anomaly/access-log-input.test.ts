import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  decodeSubscriptionEvent,
  SubscriptionDecodeError,
} from "../../../lambdas/adapters/log-subscription.js";
import { hasDuplicateTopLevelKey, parseAccessLogLine } from "../../../lambdas/domain/access-log.js";
import { TrafficBatch } from "../../../lambdas/domain/anomaly/traffic-batch.js";
import { ACCESS_LOG_FIELDS } from "../../../lib/constructs/access-log-format.js";

function subscriptionEvent(payload: unknown): unknown {
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(payload))).toString("base64") } };
}

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ time: "1767600000000", ip: "203.0.113.9", status: "200", ...fields });

describe("access-log line parsing", () => {
  it("reads API Gateway's string-typed $context values", () => {
    expect(parseAccessLogLine(line({ keyId: "0123456789abcdef", projectId: "p1", country: "DE" }))).toEqual({
      time: 1767600000000,
      ip: "203.0.113.9",
      status: 200,
      keyId: "0123456789abcdef",
      projectId: "p1",
      country: "DE",
    });
  });

  it("treats '-' and missing optional fields as absent", () => {
    expect(parseAccessLogLine(line({ keyId: "-", projectId: "-", country: "-", status: undefined }))).toEqual(
      {
        time: 1767600000000,
        ip: "203.0.113.9",
      },
    );
  });

  it("rejects non-JSON, oversized and shapeless lines with a reason", () => {
    expect(parseAccessLogLine("GET / 200")).toBe("not_json");
    expect(parseAccessLogLine(line({ userAgent: "x".repeat(10_000) }))).toBe("oversized");
    expect(parseAccessLogLine(JSON.stringify({ ip: "203.0.113.9" }))).toBe("bad_shape");
    expect(parseAccessLogLine("[1,2]")).toBe("bad_shape");
  });

  it("accepts IPv6 clients", () => {
    expect(parseAccessLogLine(line({ ip: "2001:db8:1:2::7" }))).toMatchObject({ ip: "2001:db8:1:2::7" });
  });
});

describe("access-log field injection (issue 13 item 7)", () => {
  /** What API Gateway would write, in the stage's field order, if it left the User-Agent's quotes raw. */
  const unescapedLine = (userAgent: string) =>
    Object.keys(ACCESS_LOG_FIELDS)
      .map((field) => {
        const values: Record<string, string> = {
          userAgent,
          time: "1767600000000",
          ip: "203.0.113.9",
          status: "401",
          keyId: "-",
        };
        return `"${field}":"${values[field] ?? "-"}"`;
      })
      .join(",")
      .replace(/^/, "{")
      .concat("}");
  const forgedAgent =
    'curl/8","ip":"198.51.100.1","status":"200","keyId":"0123456789abcdef","country":"DE","x":"';

  it("refuses a line in which a crafted User-Agent repeats trusted fields", () => {
    const crafted = unescapedLine(forgedAgent);
    expect(JSON.parse(crafted)).toMatchObject({ ip: "203.0.113.9" });
    expect(parseAccessLogLine(crafted)).toBe("duplicate_key");
  });

  it("refuses a duplicate trusted field whatever the order, even spelled with escapes", () => {
    const tail = line({ keyId: "0123456789abcdef" }).slice(0, -1);
    expect(parseAccessLogLine(`${tail},"ip":"198.51.100.1"}`)).toBe("duplicate_key");
    expect(parseAccessLogLine(`${tail},"\u0069p":"198.51.100.1"}`)).toBe("duplicate_key");
  });

  it("accepts keys repeated only inside nested values or string contents", () => {
    const text = JSON.stringify({
      time: "1767600000000",
      ip: "203.0.113.9",
      userAgent: 'agent "ip":"1.2.3.4", "status": 200',
      extra: { ip: "10.0.0.1", list: [{ ip: 1 }] },
    });
    expect(hasDuplicateTopLevelKey(text)).toBe(false);
    expect(parseAccessLogLine(text)).toMatchObject({ ip: "203.0.113.9" });
  });

  it("puts every client-controlled field before the trusted ones in the stage format", () => {
    const order = Object.keys(ACCESS_LOG_FIELDS);
    const lastFreeText = Math.max(...["userAgent", "path", "method"].map((f) => order.indexOf(f)));
    const firstTrusted = Math.min(
      ...["time", "ip", "status", "keyId", "projectId", "country"].map((f) => order.indexOf(f)),
    );
    expect(lastFreeText).toBeLessThan(firstTrusted);
  });

  it("counts refused lines as duplicate_key in a batch", () => {
    const batch = new TrafficBatch(() => undefined);
    batch.addLine(unescapedLine(forgedAgent));
    expect(batch.skipped.duplicate_key).toBe(1);
    expect(batch.accepted).toBe(0);
  });
});

describe("traffic batch", () => {
  it("counts bad lines and bad addresses without failing", () => {
    const batch = new TrafficBatch(() => undefined);
    batch.addLine("{not json");
    batch.addLine(line({ ip: "999.1.1.1" }));
    batch.addLine(line({ keyId: "0123456789abcdef" }));
    expect(batch.skipped).toMatchObject({ not_json: 1, bad_ip: 1 });
    expect(batch.accepted).toBe(1);
  });

  it("keys IPv6 traffic by its /48 and IPv4-mapped traffic by its /24", () => {
    const batch = new TrafficBatch(() => undefined);
    batch.addLine(line({ keyId: "0123456789abcdef", ip: "2001:db8:aa:1::5" }));
    batch.addLine(line({ keyId: "0123456789abcdef", ip: "::ffff:198.51.100.77" }));
    expect(batch.records.map((r) => r.cidr).sort()).toEqual(["198.51.100.0/24", "2001:db8:aa::/48"]);
  });

  it("takes the country from the line, else from the resolver given the truncated network", () => {
    const asked: string[] = [];
    const batch = new TrafficBatch((cidr) => {
      asked.push(cidr);
      return "NL";
    });
    batch.addLine(line({ keyId: "0123456789abcdef", country: "DE" }));
    batch.addLine(line({ keyId: "0123456789abcdef", ip: "192.0.2.200" }));
    expect(batch.records.map((r) => r.country).sort()).toEqual(["DE", "NL"]);
    expect(asked).toEqual(["192.0.2.0/24"]);
  });
});

describe("CloudWatch Logs subscription events", () => {
  it("yields each log event's message", () => {
    const event = subscriptionEvent({
      messageType: "DATA_MESSAGE",
      logGroup: "g",
      logStream: "s",
      logEvents: [
        { id: "1", timestamp: 1, message: "a" },
        { id: "2", timestamp: 2, message: "b" },
      ],
    });
    expect(decodeSubscriptionEvent(event)).toEqual({ lines: ["a", "b"], control: false });
  });

  it("ignores CONTROL_MESSAGE", () => {
    const event = subscriptionEvent({ messageType: "CONTROL_MESSAGE", logEvents: [{ message: "probe" }] });
    expect(decodeSubscriptionEvent(event)).toEqual({ lines: [], control: true });
  });

  it("rejects malformed gzip with a SubscriptionDecodeError", () => {
    const event = { awslogs: { data: Buffer.from("not gzip at all").toString("base64") } };
    expect(() => decodeSubscriptionEvent(event)).toThrow(SubscriptionDecodeError);
  });

  it("rejects an envelope that isn't a subscription event", () => {
    expect(() => decodeSubscriptionEvent({ Records: [] })).toThrow(SubscriptionDecodeError);
  });

  it("decodes a 5 MB batch and counts its bad lines", () => {
    const good = line({ keyId: "0123456789abcdef", userAgent: "x".repeat(200) });
    const logEvents = Array.from({ length: 20_000 }, (_, i) => ({
      id: String(i),
      timestamp: i,
      message: i % 1000 === 0 ? "garbage" : good,
    }));
    const event = subscriptionEvent({ messageType: "DATA_MESSAGE", logEvents });
    const { lines } = decodeSubscriptionEvent(event);
    const batch = new TrafficBatch(() => undefined);
    for (const l of lines) batch.addLine(l);
    expect(lines.join("").length).toBeGreaterThan(5_000_000);
    expect(batch.accepted).toBe(19_980);
    expect(batch.skipped.not_json).toBe(20);
  });
});

describe("IPv4 fast path", () => {
  it("truncates exactly like ipPrefix and rejects what it rejects", async () => {
    const { ipPrefix } = await import("../../../lambdas/domain/ip-prefix.js");
    const batch = new TrafficBatch(() => undefined);
    for (const ip of ["0.0.0.0", "255.255.255.255", "10.1.2.3", "192.168.0.255", "01.2.3.4", "256.1.1.1"]) {
      batch.addLine(line({ keyId: "0123456789abcdef", ip }));
    }
    const expected = ["0.0.0.0", "255.255.255.255", "10.1.2.3", "192.168.0.255"].map(
      (ip) => ipPrefix(ip).cidr,
    );
    expect(batch.records.map((r) => r.cidr).sort()).toEqual(expected.sort());
    expect(batch.skipped.bad_ip).toBe(2);
  });
});
