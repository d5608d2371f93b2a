/**
 * /docs works offline: a real headless Chromium (Debian's `chromium`, driven
 * by playwright-core) opens the docs of a keys service started here, with
 * every request that would leave loopback refused and recorded. The page must
 * render the spec's operations from the service's own copy of the UI bundle,
 * with zero CSP violations. When Chromium is missing the test fails: CI
 * installs it (.ci/run), and a skipped test would prove nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { type Child, createTestDb, freePort, serviceEnv, startService, type TestDb, testTopology } from "@riskinmind/testkit";
import { CHROMIUM, launch, openPage } from "../console/browser";

const ARTIFACTS = join(import.meta.dir, "../artifacts");

/** The spec's five endpoints; the page must show each one's summary (taken from /openapi.json) and path. */
const OPERATIONS = [
  ["get", "/api/v1/keys/"],
  ["post", "/api/v1/keys/generate"],
  ["post", "/api/v1/keys/regenerate"],
  ["post", "/api/v1/keys/revoke"],
  ["get", "/api/v1/keys/logs"],
] as const;

let db: TestDb;
let keys: Child;
let browser: Browser | undefined;
let base = "";

beforeAll(async () => {
  db = await createTestDb();
  const port = freePort();
  keys = await startService("services/keys/src/main.ts", serviceEnv(db, testTopology(), { HOST: "127.0.0.1" }), port, 30_000);
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await browser?.close();
  await keys?.kill("SIGTERM");
  await db?.drop();
});

describe("/docs in a browser without internet", () => {
  test("lists the five spec operations, loads nothing from outside loopback, and breaks no CSP rule", async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    browser = await launch();
    // Everything not loopback is refused (as with no internet) and recorded; CSP violations are collected.
    const { page, external, cspViolations } = await openPage(browser, { viewport: { width: 1400, height: 1000 } });
    const console: string[] = [];
    page.on("console", (m) => console.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => console.push(`pageerror: ${e.message}`));

    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary: string }>> };
    const summaries = OPERATIONS.map(([method, path]) => doc.paths[path]![method]!.summary);
    const bundle: Array<{ url: string; status: number; type: string }> = [];
    page.on("response", (r) => {
      if (r.url().includes("/docs/assets/")) bundle.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] ?? "" });
    });

    const res = await page.goto(`${base}/docs`, { waitUntil: "load" });
    expect(res?.status()).toBe(200);
    // No source outside this origin (a hash for the page's one empty inline script is not an origin).
    expect(res!.headers()["content-security-policy"]).not.toMatch(/https?:|\*|\bdata:/);
    // The operations are rendered once the UI has run and fetched the document.
    for (const summary of summaries) await page.getByText(summary, { exact: true }).first().waitFor({ state: "visible", timeout: 30_000 });
    const text = await page.locator("body").innerText();
    for (const [, path] of OPERATIONS) expect(text).toContain(path);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "docs.png") });

    if (console.length) process.stderr.write(`[docs.browser] console:\n  ${console.join("\n  ")}\n`);
    expect(bundle).toEqual([{ url: expect.stringContaining(`${base}/docs/assets/scalar.js`), status: 200, type: expect.stringContaining("javascript") }]);
    expect(external).toEqual([]);
    expect(cspViolations).toEqual([]);
    expect(console.filter((l) => /Content Security Policy|Refused to/i.test(l))).toEqual([]);
  }, 90_000);
});
