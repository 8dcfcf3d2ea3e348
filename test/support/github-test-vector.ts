/**
 * The signed sample delivery published in GitHub's "Secret scanning partner program" docs
 * ("Implement signature verification in your secret alert service"), byte for byte, and the
 * public keys GitHub listed for it. The older sample (before `source` existed) was signed with
 * the key that is now listed as not current: it proves rotated keys still verify.
 */
export const GITHUB_SAMPLE = {
  keyIdentifier: "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c",
  signature:
    "MEQCIQDaMKqrGnE27S0kgMrEK0eYBmyG0LeZismAEz/BgZyt7AIfXt9fErtRS4XaeSt/AO1RtBY66YcAdjxji410VQV4xg==",
  payload:
    '[{"source":"commit","token":"some_token","type":"some_type","url":"https://example.com/base-repo-url/"}]',
  publicKeyPem:
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYAGMWO8XgCamYKMJS6jc/qgvSlAd\nAjPuDPRcXU22YxgBrz+zoN19MzuRyW87qEt9/AmtoNP5GrobzUvQSyJFVw==\n-----END PUBLIC KEY-----\n",
} as const;

export const GITHUB_OLDER_SAMPLE = {
  keyIdentifier: "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a",
  signature:
    "MEUCIQDKZokqnCjrRtw0tni+2Ltvl/uiMJ1EGumEsp1BsNr32AIgQY1YXD2nlj+XNfGK4rBfkMJ1JDOQcYXxa2sY8FNkrKc=",
  payload: '[{"token":"some_token","type":"some_type","url":"some_url"}]',
  publicKeyPem:
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9MJJHnMfn2+H4xL4YaPDA4RpJqUq\nkCmRCBnYERxZanmcpzQSXs1X/AljlKkbJ8qpVIW4clayyef9gWhFbNHWAA==\n-----END PUBLIC KEY-----\n",
} as const;

/** `GET /meta/public_keys/secret_scanning` as GitHub answered with both keys. */
export const GITHUB_PUBLISHED_KEYS = [
  {
    key_identifier: GITHUB_OLDER_SAMPLE.keyIdentifier,
    key: GITHUB_OLDER_SAMPLE.publicKeyPem,
    is_current: false,
  },
  { key_identifier: GITHUB_SAMPLE.keyIdentifier, key: GITHUB_SAMPLE.publicKeyPem, is_current: true },
];
