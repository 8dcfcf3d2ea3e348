import { isValidKey } from "./key-format.js";
import { type ScanFinding, scanBuffer } from "./key-scanner.js";

/**
 * What a person reading free text would see once a browser, a terminal or a copy-paste has
 * decoded it. Keys are looked for in this form as well as in the raw text, so `%73mk_…`,
 * `&#115;mk_…` or a zero-width space inside a key can't slip a key past the withholding rule.
 */

/** Decoding rounds before giving up: `%2573` needs two; an attacker nesting deeper gets the field withheld. */
export const MAX_DECODING_ROUNDS = 8;

/**
 * Zero-width and other invisible format characters, bidi controls, variation selectors and tag
 * characters: none is visible, all survive copy-paste, and any of them splits a key in two.
 */
const INVISIBLE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: each code point is removed on its own (u flag), combining or not.
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}]/gu;

/** C0/C1 controls other than tab and newline: never meant for a reader, and they can rewrite a terminal. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job.
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const ENTITY =
  /&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(amp|lt|gt|quot|apos|nbsp|percnt|lowbar|colon|sol));?/g;
const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  percnt: "%",
  lowbar: "_",
  colon: ":",
  sol: "/",
};

const lenientUtf8 = new TextDecoder("utf-8", { fatal: false });

function decodePercent(text: string): string {
  return text.replace(PERCENT_RUN, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return lenientUtf8.decode(bytes);
  });
}

function decodeEntities(text: string): string {
  return text.replace(ENTITY, (whole, decimal?: string, hex?: string, name?: string) => {
    if (name) return NAMED_ENTITIES[name] ?? whole;
    const codePoint = Number.parseInt(decimal ?? hex ?? "", decimal ? 10 : 16);
    return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : whole;
  });
}

export interface NormalisedText {
  text: string;
  /** Still changing after MAX_DECODING_ROUNDS: whoever nests encodings this deep is hiding something. */
  tooDeep: boolean;
}

/**
 * Percent-encoding and HTML character references decoded repeatedly (they can be nested in each
 * other), then compatibility forms folded (NFKC: fullwidth `ｓｍｋ＿` reads as `smk_`), then
 * invisible, bidi and control characters removed. Linear in the input per round, bounded rounds.
 */
export function normaliseFreeText(raw: string): NormalisedText {
  let text = raw;
  for (let round = 0; round < MAX_DECODING_ROUNDS; round++) {
    const next = decodeEntities(decodePercent(stripInvisible(text)));
    if (next === text) return { text: stripInvisible(text.normalize("NFKC")), tooDeep: false };
    text = next;
  }
  const settled = stripInvisible(text.normalize("NFKC"));
  return { text: settled, tooDeep: decodeEntities(decodePercent(settled)) !== settled };
}

/** Removes characters nobody can see (zero-width, bidi, variation selectors, tags) and raw controls. */
export function stripInvisible(text: string): string {
  return text.replace(INVISIBLE, "").replace(CONTROLS, "");
}

/** The forms a scanner should look at: the raw text, and its normalised form when that differs. */
export function scanForms(raw: string): { forms: string[]; tooDeep: boolean } {
  const normalised = normaliseFreeText(raw);
  return {
    forms: normalised.text === raw ? [raw] : [raw, normalised.text],
    tooDeep: normalised.tooDeep,
  };
}

/**
 * Keys in free text that a channel scans (event bodies, code-search fragments): each key once,
 * from the raw text where it stands there (its line is then exact), else from the decoded form.
 */
export function scanFreeText(raw: string, prefixes: readonly string[]): ScanFinding[] {
  const keys = new Map<string, ScanFinding>();
  for (const form of scanForms(raw).forms) {
    for (const finding of scanBuffer(form, { prefixes, mode: "text" })) {
      if (!keys.has(finding.keyHash)) keys.set(finding.keyHash, finding);
    }
  }
  return [...keys.values()];
}

const UNDERSCORE_BEFORE_KEY_TAIL = /_(?=[0-9A-Za-z]{38})/g;

/**
 * True when the text, raw or normalised, holds a valid key of any prefix (`[a-z]{2,10}_`), or
 * nests encodings too deep to tell. The recorder's last guard: a location field that holds a key
 * is dropped rather than stored, whichever channel produced it.
 */
export function holdsAnyKey(raw: string): boolean {
  const { forms, tooDeep } = scanForms(raw);
  if (tooDeep) return true;
  for (const text of forms) {
    for (const match of text.matchAll(UNDERSCORE_BEFORE_KEY_TAIL)) {
      const at = match.index;
      const tail = text.slice(at + 1, at + 39);
      // Any 2-10 lower-case letters before the underscore may be the prefix.
      for (let length = 2; length <= 10 && at - length >= 0; length++) {
        const prefix = text.slice(at - length, at);
        if (!/^[a-z]+$/.test(prefix)) break;
        if (isValidKey(`${prefix}_${tail}`)) return true;
      }
    }
  }
  return false;
}
