import { Elysia } from "elysia";
import type { openapi } from "@elysiajs/openapi";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The docs UI (Scalar's standalone browser bundle) served by the service
 * itself, from the `@scalar/api-reference` npm package: /docs works without
 * internet and its CSP names no external origin.
 */
const packageRoot = join(dirname(Bun.resolveSync("@scalar/api-reference", import.meta.dir)), "..");
const BUNDLE = join(packageRoot, "dist/browser/standalone.js");
const VERSION = (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;

/** Where the page loads the bundle from; the version in the query makes a new release a new URL, so it may be cached for good. */
export const SCALAR_BUNDLE_PATH = "/docs/assets/scalar.js";

type ScalarOptions = NonNullable<NonNullable<Parameters<typeof openapi>[0]>["scalar"]>;

const options = {
  cdn: `${SCALAR_BUNDLE_PATH}?v=${VERSION}`,
  // Scalar's default fonts load from fonts.scalar.com; the browser's own fonts serve as well.
  withDefaultFonts: false,
  // Scalar's hosted services (its client, AI agent, developer toolbar) are links out of a page meant to work offline.
  hideClientButton: true,
  showDeveloperTools: "never",
  telemetry: false,
  // Five operations: show them all at once.
  defaultOpenAllTags: true,
} satisfies Partial<ScalarOptions>;

/**
 * The `scalar` options of `@elysiajs/openapi`: our own copy of the bundle, and
 * nothing fetched from elsewhere. (The plugin types the option as Scalar's
 * configuration with every default filled in; Scalar fills them itself.)
 */
export const scalarConfig = {
  ...options,
  // Scalar's AI chat (hosted); the option is newer than the @scalar/types the plugin's types come from.
  agent: { disabled: true },
} as unknown as ScalarOptions;

/**
 * Zod, bundled inside Scalar, probes for `Function("")` to decide whether it
 * may compile validators; under our CSP (no 'unsafe-eval') that probe is a
 * reported violation. Declaring it jitless before the bundle runs skips the
 * probe: same behaviour, no violation, and no need to loosen the policy.
 */
const PRELUDE = "globalThis.__zod_globalConfig = Object.assign(globalThis.__zod_globalConfig ?? {}, { jitless: true });\n";

/** GET /docs/assets/scalar.js: the prelude and the 4.8 MB bundle; gzipped (1.4 MB, compressed once on first use and kept) for clients that accept it. */
export function docsAssets() {
  let gzipped: Uint8Array | undefined;
  const headers = {
    "content-type": "text/javascript; charset=utf-8",
    "cache-control": "public, max-age=31536000, immutable",
    vary: "accept-encoding",
  };
  return new Elysia({ name: "riskinmind/docs-assets" }).get(
    SCALAR_BUNDLE_PATH,
    async ({ request }) => {
      const whole = async () => Buffer.concat([Buffer.from(PRELUDE), await Bun.file(BUNDLE).bytes()]);
      // Every browser asks for gzip; the plain answer is read per request rather than kept.
      if (!/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) return new Response(await whole(), { headers });
      gzipped ??= Bun.gzipSync(await whole());
      return new Response(gzipped, { headers: { ...headers, "content-encoding": "gzip" } });
    },
    { detail: { hide: true } },
  );
}
