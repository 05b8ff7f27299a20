// The JavaScript the first screen loads (the entry script and the chunks index.html
// preloads), gzipped, against the 300 KB budget. Exits 1 over budget.
//   node scripts/bundle-size.mjs [static dir]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 300 * 1024;
const dir = resolve(process.argv[2] || join(import.meta.dirname, "../../static"));
const html = readFileSync(join(dir, "index.html"), "utf8");
const files = [
  ...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g),
  ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g),
].map((m) => m[1]);

let total = 0;
for (const file of new Set(files)) {
  const bytes = gzipSync(readFileSync(join(dir, file)), { level: 9 }).length;
  total += bytes;
  console.log(`${(bytes / 1024).toFixed(1).padStart(8)} KB  ${file}`);
}
console.log(`${(total / 1024).toFixed(1).padStart(8)} KB  first screen, gzipped (budget 300 KB)`);
process.exit(total <= BUDGET ? 0 : 1);
