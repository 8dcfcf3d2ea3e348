import { type Browser, chromium } from "playwright-core";

/** Debian's chromium package; `.ci/run` installs it when missing. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for headless chromium in a container: no sandbox, no GPU, no background traffic. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
