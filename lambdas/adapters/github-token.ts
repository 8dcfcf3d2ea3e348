/**
 * GitHub tokens are written in `[A-Za-z0-9_]` only: classic `ghp_…`, fine-grained `github_pat_…`,
 * app and OAuth tokens (`ghs_`, `gho_`, `ghu_`, `ghr_`) and legacy 40-hex tokens. The secret the
 * stack creates starts out as a Secrets Manager generated password (32 characters including
 * punctuation), so a value outside that alphabet is the placeholder nobody replaced, not a token.
 */
const TOKEN_SHAPE = /^[A-Za-z0-9_]{20,255}$/;

/** True when the value can't be a GitHub token (empty, generated placeholder, a note left in the secret). */
export function isPlaceholderToken(value: string | undefined): boolean {
  return value === undefined || !TOKEN_SHAPE.test(value.trim());
}
