// Debian's Chromium for the end-to-end tests and bench/web, with the flags that make it
// quiet and reproducible on a test machine (no sandbox, GPU, QUIC or background
// traffic).
import { chromium } from "playwright-core";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** @returns {Promise<import("playwright-core").Browser>} */
export function launchChromium() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
}
