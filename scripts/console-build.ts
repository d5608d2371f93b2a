/**
 * `bun run console:build`: builds the owners' console as the keys service
 * does at run time and fails (exit 1) when its JavaScript, gzipped, is over
 * the budget. With `--out <dir>` it also writes the files (to look at them;
 * the service never reads them).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildConsole, JS_BUDGET_GZIP_BYTES } from "../services/keys/src/console/build";

const out = process.argv.indexOf("--out") > 0 ? process.argv[process.argv.indexOf("--out") + 1] : undefined;
const b = await buildConsole();
for (const a of b.assets.values()) console.log(`${a.path}  ${(a.body.byteLength / 1024).toFixed(1)} KB, ${(a.gzip.byteLength / 1024).toFixed(1)} KB gzipped`);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
if (out) {
  mkdirSync(join(out, "assets"), { recursive: true });
  writeFileSync(join(out, "index.html"), b.html);
  for (const a of b.assets.values()) writeFileSync(join(out, "assets", a.path.slice(a.path.lastIndexOf("/") + 1)), a.body);
}
if (b.jsGzipBytes > JS_BUDGET_GZIP_BYTES) {
  console.error(`console JavaScript is ${kb(b.jsGzipBytes)} gzipped: over the ${kb(JS_BUDGET_GZIP_BYTES)} budget`);
  process.exit(1);
}
console.log(`console JavaScript: ${kb(b.jsGzipBytes)} gzipped, budget ${kb(JS_BUDGET_GZIP_BYTES)}`);
