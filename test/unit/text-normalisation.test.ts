import { describe, expect, it } from "vitest";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import {
  analyseReport,
  MAX_KEYS_PER_REPORT,
  ReportSubmissionSchema,
  reportRecordFor,
} from "../../lambdas/domain/report.js";
import {
  holdsAnyKey,
  MAX_DECODING_ROUNDS,
  normaliseFreeText,
  scanFreeText,
} from "../../lambdas/domain/text-normalisation.js";

const percentAll = (text: string) =>
  [...text].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("");

/** Ways a reporter can write a key that a reader (or a browser) still reads as the key. */
const OBFUSCATIONS: Record<string, (key: string) => string> = {
  "first letter percent-encoded": (key) => `%${key.charCodeAt(0).toString(16)}${key.slice(1)}`,
  "every character percent-encoded": percentAll,
  "percent-encoded twice": (key) => percentAll(key).replaceAll("%", "%25"),
  "zero-width space inside": (key) => `${key.slice(0, 10)}\u200B${key.slice(10)}`,
  "word joiner and BOM inside": (key) => `${key.slice(0, 5)}\u2060${key.slice(5, 20)}\uFEFF${key.slice(20)}`,
  "bidi override inside": (key) => `${key.slice(0, 8)}\u202E${key.slice(8)}\u202C`,
  "decimal HTML reference": (key) => `&#${key.charCodeAt(0)};${key.slice(1)}`,
  "hex HTML reference for the underscore": (key) => key.replace("_", "&#x5f;"),
  "entity-encoded percent sign": (key) => `&#37;${key.charCodeAt(0).toString(16)}${key.slice(1)}`,
  "fullwidth letters": (key) =>
    [...key].map((c) => (/[!-~]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join(""),
};

describe("normaliseFreeText", () => {
  for (const [name, obfuscate] of Object.entries(OBFUSCATIONS)) {
    it(`reads a key written with ${name} as the key`, () => {
      const key = generateKey();
      expect(normaliseFreeText(`see ${obfuscate(key)} there`).text).toContain(key);
    });
  }

  it("stops after a bounded number of rounds and says the text nests too deep", () => {
    let nested = "%73";
    for (let i = 0; i < MAX_DECODING_ROUNDS + 2; i++) nested = nested.replaceAll("%", "%25");
    expect(normaliseFreeText(`${nested}mk_x`).tooDeep).toBe(true);
  });

  it("leaves ordinary text alone", () => {
    expect(normaliseFreeText("deploy.sh line 12: export TOKEN").text).toBe("deploy.sh line 12: export TOKEN");
  });
});

describe("holdsAnyKey", () => {
  it("finds an obfuscated key of any prefix", () => {
    expect(holdsAnyKey(`x ${OBFUSCATIONS["zero-width space inside"]?.(generateKey("stg_"))}`)).toBe(true);
  });

  it("does not flag a look-alike whose check digits are wrong", () => {
    const key = generateKey();
    const broken = `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`;
    expect(holdsAnyKey(broken)).toBe(false);
  });
});

describe("a report holding an obfuscated key", () => {
  for (const [name, obfuscate] of Object.entries(OBFUSCATIONS)) {
    it(`finds the key and withholds the description and URL (${name})`, () => {
      const key = generateKey();
      const submission = ReportSubmissionSchema.parse({
        text: "see the description",
        url: `https://example.com/paste/${obfuscate(key)}`.replace(/\s/g, ""),
        description: `it was ${obfuscate(key)} in a log`,
      });
      const analysis = analyseReport(submission, ["smk_"]);
      const record = reportRecordFor("rep-1", submission, analysis, new Date("2026-01-01T00:00:00Z"));

      expect(analysis.keys.map((k) => k.keyHash)).toContain(keyHash(key));
      expect(record.description).toBeUndefined();
      expect(record.url).toBeUndefined();
      expect(JSON.stringify(record)).not.toContain(key);
    });
  }

  it("keeps a plain description that holds no key", () => {
    const submission = ReportSubmissionSchema.parse({ text: generateKey(), description: "found in a gist" });
    const analysis = analyseReport(submission, ["smk_"]);
    expect(reportRecordFor("r", submission, analysis, new Date()).description).toBe("found in a gist");
  });
});

describe("keys per report", () => {
  it("refuses a report over the cap whole", () => {
    const text = Array.from({ length: 11 }, () => generateKey()).join("\n");
    const analysis = analyseReport(ReportSubmissionSchema.parse({ text }), ["smk_"], { maxKeys: 10 });
    expect(analysis.verdict).toBe("too_many_keys");
  });

  it("takes every key a 64 KiB report can hold (the cap is above it)", () => {
    const keys: string[] = [];
    let text = "";
    while (text.length + 43 <= 64 * 1024) {
      const key = generateKey();
      keys.push(key);
      text += `${key}\n`;
    }
    const analysis = analyseReport(ReportSubmissionSchema.parse({ text }), ["smk_"]);
    expect(keys.length).toBeLessThan(MAX_KEYS_PER_REPORT);
    expect(analysis.verdict).toBe("keys_found");
    expect(analysis.keys).toHaveLength(keys.length);
  });
});

describe("scanFreeText (GitHub event bodies, code-search fragments)", () => {
  for (const [name, obfuscate] of Object.entries(OBFUSCATIONS)) {
    it(`finds a key written with ${name}`, () => {
      const key = generateKey();

      const found = scanFreeText(`token: ${obfuscate(key)}\n`, ["smk_"]);

      expect(found.map((f) => f.keyHash)).toEqual([keyHash(key)]);
    });
  }

  it("reports a key written both plainly and encoded once, at its plain line", () => {
    const key = generateKey();

    const found = scanFreeText(`first\n${key}\n${percentAll(key)}`, ["smk_"]);

    expect(found.map((f) => [f.keyHash, f.line])).toEqual([[keyHash(key), 2]]);
  });
});
