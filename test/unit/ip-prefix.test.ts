import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  hmacSha256Hex,
  InvalidIpAddressError,
  ipPrefix,
  pseudonymousClientId,
} from "../../lambdas/domain/ip-prefix.js";

describe("ipPrefix truncates IPv4 to /24", () => {
  it("zeroes the last octet", () => {
    expect(ipPrefix("203.0.113.77")).toEqual({ family: 4, cidr: "203.0.113.0/24" });
  });

  it("maps every address of a /24 to the same prefix (property)", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 255 }), (address, last) => {
        const sibling = address.replace(/\.\d+$/, `.${last}`);
        expect(ipPrefix(sibling).cidr).toBe(ipPrefix(address).cidr);
        expect(ipPrefix(address).cidr.endsWith(".0/24")).toBe(true);
      }),
    );
  });
});

describe("ipPrefix truncates IPv6 to /48", () => {
  it("keeps the first three groups of a full address", () => {
    expect(ipPrefix("2001:0db8:00a1:1234:5678:9abc:def0:1234").cidr).toBe("2001:db8:a1::/48");
  });

  it("expands :: before truncating", () => {
    expect(ipPrefix("2001:db8::1").cidr).toBe("2001:db8:0::/48");
    expect(ipPrefix("::1").cidr).toBe("0:0:0::/48");
  });

  it("ignores a zone id", () => {
    expect(ipPrefix("fe80:1:2:3::1%eth0").cidr).toBe("fe80:1:2::/48");
  });

  it("maps addresses sharing their first 48 bits to one prefix (property)", () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 8, maxLength: 8 }),
        fc.array(group, { minLength: 5, maxLength: 5 }),
        (a, tail) => {
          const b = [...a.slice(0, 3), ...tail];
          expect(ipPrefix(b.join(":")).cidr).toBe(ipPrefix(a.join(":")).cidr);
          expect(ipPrefix(a.join(":")).family).toBe(6);
        },
      ),
    );
  });
});

describe("ipPrefix treats IPv4-mapped IPv6 as IPv4", () => {
  it("dotted form", () => {
    expect(ipPrefix("::ffff:198.51.100.9")).toEqual({ family: 4, cidr: "198.51.100.0/24" });
  });

  it("hex form", () => {
    expect(ipPrefix("::ffff:c633:6409")).toEqual({ family: 4, cidr: "198.51.100.0/24" });
  });
});

describe("ipPrefix rejects what is not an address", () => {
  it.each(["", "localhost", "1.2.3", "1.2.3.256", "2001:db8:::1", "<script>"])("%j", (input) => {
    expect(() => ipPrefix(input)).toThrow(InvalidIpAddressError);
  });

  it("keeps the input out of the error message", () => {
    expect(() => ipPrefix("10.0.0.999")).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("10.0") }),
    );
  });
});

describe("pseudonymousClientId", () => {
  it("is the HMAC of the truncated prefix, so neighbours share it", () => {
    expect(pseudonymousClientId("203.0.113.5", "pepper")).toBe(hmacSha256Hex("pepper", "203.0.113.0/24"));
    expect(pseudonymousClientId("203.0.113.200", "pepper")).toBe(
      pseudonymousClientId("203.0.113.5", "pepper"),
    );
  });

  it("depends on the pepper", () => {
    expect(pseudonymousClientId("203.0.113.5", "a")).not.toBe(pseudonymousClientId("203.0.113.5", "b"));
  });

  it("never contains the address", () => {
    expect(pseudonymousClientId("203.0.113.5", "pepper")).toMatch(/^[0-9a-f]{64}$/);
  });
});
