/**
 * The console as the keys service serves it: the bundle stays within its
 * JavaScript budget, the page has no inline script or style under a
 * `'self'`-only CSP, the hashed assets are cached for good (gzipped when
 * asked), and an unknown asset is a 404 in the error envelope.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestDb, type KeysInstance, startKeys, type TestDb, testNats, testTopology } from "@riskinmind/testkit";
import { buildConsole, JS_BUDGET_GZIP_BYTES } from "../../services/keys/src/console/build";
import { CONSOLE_CSP } from "../../services/keys/src/console/routes";

let db: TestDb;
let keys: KeysInstance;
let base = "";

beforeAll(async () => {
  db = await createTestDb();
  keys = await startKeys({ db, topo: testTopology(), nats: testNats() });
  base = keys.url;
});
afterAll(async () => {
  await keys?.close();
  await db?.drop();
});

describe("console build", () => {
  test("all of its JavaScript, gzipped, is within the stated budget", async () => {
    const b = await buildConsole();
    const js = [...b.assets.values()].filter((a) => a.path.endsWith(".js"));
    expect(js.length).toBeGreaterThan(0);
    expect(b.jsGzipBytes).toBe(js.reduce((n, a) => n + Bun.gzipSync(a.body, { level: 9 }).byteLength, 0));
    expect(b.jsGzipBytes).toBeLessThanOrEqual(JS_BUDGET_GZIP_BYTES);
  });

  test("`bun run console:build` reports the size and succeeds within the budget", async () => {
    const p = Bun.spawn(["bun", "run", "console:build"], { cwd: `${import.meta.dir}/../..`, stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    expect(out).toMatch(/console JavaScript: [\d.]+ KB gzipped, budget 40\.0 KB/);
  });
});

describe("GET /console", () => {
  test("the page: HTML, not cached, its own files only, nothing inline", async () => {
    const res = await fetch(`${base}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    // Every source is 'self' or 'none': no host, no scheme, no hash, no 'unsafe-*'.
    expect(CONSOLE_CSP).not.toMatch(/https?:|\*|data:|blob:|unsafe|sha256|nonce/);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/console\/assets\/main-[\w]+\.js"/);
      expect(body).toBe("");
    }
    expect(html).not.toMatch(/<style|\sstyle=|\son\w+=/i);
    expect(html).toMatch(/<link rel="stylesheet" href="\/console\/assets\/main-[\w]+\.css">/);
  });

  test("assets: long-cached under hashed names, gzipped for clients that ask, byte-identical either way", async () => {
    const html = await (await fetch(`${base}/console`)).text();
    const paths = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(paths.length).toBe(2);
    for (const path of paths) {
      const gz = await fetch(`${base}${path}`, { headers: { "accept-encoding": "gzip" }, decompress: false });
      expect(gz.status).toBe(200);
      expect(gz.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(gz.headers.get("content-encoding")).toBe("gzip");
      expect(gz.headers.get("content-type")).toBe(path.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
      const plain = await fetch(`${base}${path}`, { headers: { "accept-encoding": "identity" } });
      expect(plain.headers.get("content-encoding")).toBeNull();
      const plainBytes = new Uint8Array(await plain.arrayBuffer());
      expect(plainBytes.byteLength).toBeGreaterThan(1000);
      expect(Bun.gunzipSync(new Uint8Array(await gz.arrayBuffer()))).toEqual(plainBytes);
    }
  });

  test("an unknown asset is 404 NOT_FOUND in the error envelope", async () => {
    const res = await fetch(`${base}/console/assets/main-nothere.js`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { success: boolean; error: { code: string } };
    expect(body.success).toBe(false);
    expect(body.error.code).toBe("NOT_FOUND");
  });

  test("the console routes are not part of the API document", async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/console"))).toEqual([]);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
  });
});
