/**
 * The owners' console bundle (services/keys/console), built with Bun.build in
 * memory: no committed dist to go stale, no build step before `bun run dev`
 * or `start`. Preact is bundled in; nothing is fetched at run time, so the
 * page works offline under a `'self'`-only CSP.
 */
import { join } from "node:path";

export const CONSOLE_SRC = join(import.meta.dir, "../../console");

/** All the console's JavaScript together, gzipped, at most this: checked by `bun run console:build` and test/console/budget.test.ts. */
export const JS_BUDGET_GZIP_BYTES = 40 * 1024;

export interface ConsoleAsset {
  /** The URL path, /console/assets/<name>-<hash>.<ext>. */
  path: string;
  type: string;
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
}

export interface ConsoleBundle {
  html: string;
  assets: Map<string, ConsoleAsset>;
  /** Gzipped bytes of every JavaScript asset together. */
  jsGzipBytes: number;
}

export const ASSETS_PREFIX = "/console/assets/";

const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

function page(scripts: string[], styles: string[]): string {
  // No inline script or style: the CSP allows 'self' files only.
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    '<meta name="referrer" content="no-referrer">',
    "<title>API keys console · RiskInMind</title>",
    ...styles.map((s) => `<link rel="stylesheet" href="${escapeAttr(s)}">`),
    ...scripts.map((s) => `<script type="module" src="${escapeAttr(s)}"></script>`),
    "</head>",
    "<body>",
    '<div id="app"></div>',
    "<noscript><p>The console needs JavaScript. The same operations are available over HTTP: see /docs.</p></noscript>",
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/** Builds the console; throws with Bun's messages when the source does not build. */
export async function buildConsole(): Promise<ConsoleBundle> {
  const result = await Bun.build({
    entrypoints: [join(CONSOLE_SRC, "main.tsx")],
    target: "browser",
    format: "esm",
    minify: true,
    splitting: false,
    sourcemap: "none",
    naming: { entry: "[name]-[hash].[ext]", asset: "[name]-[hash].[ext]", chunk: "[name]-[hash].[ext]" },
    jsx: { runtime: "automatic", importSource: "preact" },
    define: { "process.env.NODE_ENV": '"production"' },
    throw: false,
  });
  if (!result.success) throw new Error(`console build failed:\n${result.logs.map(String).join("\n")}`);
  const assets = new Map<string, ConsoleAsset>();
  const scripts: string[] = [];
  const styles: string[] = [];
  let jsGzipBytes = 0;
  for (const out of result.outputs) {
    const name = out.path.replace(/^.*[\\/]/, "");
    const path = ASSETS_PREFIX + name;
    const body = new Uint8Array(await out.arrayBuffer());
    const gzip = Bun.gzipSync(body, { level: 9 });
    const type = name.endsWith(".js") ? "text/javascript; charset=utf-8" : name.endsWith(".css") ? "text/css; charset=utf-8" : out.type;
    assets.set(path, { path, type, body, gzip });
    if (name.endsWith(".js")) {
      jsGzipBytes += gzip.byteLength;
      if (out.kind === "entry-point") scripts.push(path);
    } else if (name.endsWith(".css")) styles.push(path);
  }
  return { html: page(scripts, styles), assets, jsGzipBytes };
}
