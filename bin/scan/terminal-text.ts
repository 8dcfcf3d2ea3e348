/**
 * Characters that change how a terminal or an editor shows the text around them: C0 and C1
 * controls (ESC sequences, CSI 0x9B), DEL, bidirectional overrides and isolates (a file named
 * `\u202Egnp.js` shows as `sj.png`), zero-width and line-separator characters. File names, zip
 * entry names and diff paths come from whoever wrote the input, so none reaches output raw.
 */
function isUnsafe(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x2069) ||
    code === 0xfeff ||
    (code >= 0xfff9 && code <= 0xfffb)
  );
}

export function hasUnsafeCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isUnsafe(text.charCodeAt(i))) return true;
  return false;
}

/** Writes every unsafe character as `\uXXXX`, for message text. */
export function escapeUnsafeCharacters(text: string): string {
  return escapeWhere(text, isUnsafe);
}

/**
 * The same for JSON text from JSON.stringify: C0 characters are already escaped inside its
 * strings, and outside them they are its own line breaks and indentation, so they stay; the
 * rest (DEL, C1, bidi, zero-width) can only occur inside strings, where `\uXXXX` means the same.
 */
export function escapeUnsafeInJson(json: string): string {
  return escapeWhere(json, (code) => code > 0x1f && isUnsafe(code));
}

function escapeWhere(text: string, unsafe: (code: number) => boolean): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!unsafe(code)) continue;
    out += `${text.slice(from, i)}\\u${code.toString(16).padStart(4, "0")}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** A path or name for a message line: quoted and escaped when it holds anything unsafe. */
export function shownName(name: string): string {
  return hasUnsafeCharacters(name) ? escapeUnsafeCharacters(JSON.stringify(name)) : name;
}
