import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  InvalidPartnerKeyError,
  partnerPublicKey,
  signPartnerPayload,
  verifyPartnerSignature,
} from "../../lambdas/domain/partner-signature.js";
import { GITHUB_OLDER_SAMPLE, GITHUB_SAMPLE } from "../support/github-test-vector.js";
import { generateSigningKey } from "../support/partner-keys.js";

const bytes = (text: string) => Buffer.from(text, "utf8");

describe("GitHub's published test vector", () => {
  it("verifies the documented sample delivery with the current key", () => {
    const key = partnerPublicKey(GITHUB_SAMPLE.keyIdentifier, GITHUB_SAMPLE.publicKeyPem, true);

    const ok = verifyPartnerSignature(bytes(GITHUB_SAMPLE.payload), GITHUB_SAMPLE.signature, key);

    expect(ok).toBe(true);
  });

  it("verifies the older sample with the key GitHub lists as not current", () => {
    const key = partnerPublicKey(GITHUB_OLDER_SAMPLE.keyIdentifier, GITHUB_OLDER_SAMPLE.publicKeyPem, false);

    const ok = verifyPartnerSignature(bytes(GITHUB_OLDER_SAMPLE.payload), GITHUB_OLDER_SAMPLE.signature, key);

    expect(ok).toBe(true);
  });

  it("fails when one byte of the sample body changes", () => {
    const key = partnerPublicKey(GITHUB_SAMPLE.keyIdentifier, GITHUB_SAMPLE.publicKeyPem, true);
    const tampered = bytes(GITHUB_SAMPLE.payload);
    tampered[20] = (tampered[20] as number) ^ 0x01;

    expect(verifyPartnerSignature(tampered, GITHUB_SAMPLE.signature, key)).toBe(false);
  });

  it("fails on a re-serialised body carrying the same JSON", () => {
    const key = partnerPublicKey(GITHUB_SAMPLE.keyIdentifier, GITHUB_SAMPLE.publicKeyPem, true);
    const reserialised = JSON.stringify(JSON.parse(GITHUB_SAMPLE.payload), null, 1);

    expect(verifyPartnerSignature(bytes(reserialised), GITHUB_SAMPLE.signature, key)).toBe(false);
  });

  it("fails with the other published key", () => {
    const other = partnerPublicKey(
      GITHUB_OLDER_SAMPLE.keyIdentifier,
      GITHUB_OLDER_SAMPLE.publicKeyPem,
      false,
    );

    expect(verifyPartnerSignature(bytes(GITHUB_SAMPLE.payload), GITHUB_SAMPLE.signature, other)).toBe(false);
  });
});

describe("key pairs generated in the test", () => {
  it("verify what their private key signed, over any bytes", () => {
    const signer = generateSigningKey();
    const key = partnerPublicKey(signer.keyIdentifier, signer.publicKeyPem, true);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (body) => {
        expect(verifyPartnerSignature(body, signer.sign(body), key)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it("reject any single flipped bit of the body", () => {
    const signer = generateSigningKey();
    const key = partnerPublicKey(signer.keyIdentifier, signer.publicKeyPem, true);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (body, at, bit) => {
          const signature = signer.sign(body);
          const tampered = Uint8Array.from(body);
          const index = at % tampered.length;
          tampered[index] = (tampered[index] as number) ^ (1 << bit);
          expect(verifyPartnerSignature(tampered, signature, key)).toBe(false);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("reject a signature made by another key", () => {
    const signer = generateSigningKey();
    const impostor = generateSigningKey();
    const key = partnerPublicKey(signer.keyIdentifier, signer.publicKeyPem, true);
    const body = bytes('[{"token":"x","type":"t","url":"","source":"content"}]');

    expect(verifyPartnerSignature(body, impostor.sign(body), key)).toBe(false);
  });
});

describe("malformed signatures", () => {
  const signer = generateSigningKey();
  const key = partnerPublicKey(signer.keyIdentifier, signer.publicKeyPem, true);
  const body = bytes('[{"token":"x","type":"t","url":"","source":"content"}]');
  const good = signer.sign(body);

  it("are false when truncated", () => {
    const der = Buffer.from(good, "base64");
    const truncated = der.subarray(0, der.length - 4).toString("base64");

    expect(verifyPartnerSignature(body, truncated, key)).toBe(false);
  });

  it("are false when not DER (raw r||s, IEEE P1363)", () => {
    const p1363 = signPartnerPayloadP1363(body, signer.privateKey);

    expect(verifyPartnerSignature(body, p1363, key)).toBe(false);
  });

  it("are false when not base64", () => {
    expect(verifyPartnerSignature(body, `${good.slice(0, -2)}!!`, key)).toBe(false);
  });

  it("are false when empty", () => {
    expect(verifyPartnerSignature(body, "", key)).toBe(false);
  });

  it("are false when absurdly long", () => {
    expect(verifyPartnerSignature(body, "A".repeat(10_000), key)).toBe(false);
  });
});

describe("public keys", () => {
  it("must be ECDSA P-256", () => {
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({
      format: "pem",
      type: "spki",
    });

    expect(() => partnerPublicKey("p384", p384.toString(), true)).toThrow(InvalidPartnerKeyError);
  });

  it("must be PEM", () => {
    expect(() => partnerPublicKey("junk", "not a key", true)).toThrow(InvalidPartnerKeyError);
  });
});

describe("signPartnerPayload", () => {
  it("produces base64 DER (starts with a SEQUENCE tag)", () => {
    const signer = generateSigningKey();

    const der = Buffer.from(signPartnerPayload(bytes("[]"), signer.privateKey), "base64");

    expect(der[0]).toBe(0x30);
  });
});

/** A well-formed signature in the wrong encoding (raw r||s): must not pass for DER. */
function signPartnerPayloadP1363(body: Uint8Array, privateKey: KeyObject): string {
  return sign("sha256", body, { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64");
}
