/**
 * Keys, tokens and the JWT secret never leave the process in a log line, an
 * error message or /metrics: every output of the keys, usage and example
 * processes (run at LOG_LEVEL=trace, so every line that exists is written) is
 * captured through a whole scenario and searched for every secret used.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KEY_PREFIX } from "@riskinmind/contracts";
import { authHeader, deploy, type Deployment, JWT_SECRET, newOwner, predict, rawRequest, type Reply, req, token, unsignedToken, usageRows, waitFor } from "@riskinmind/testkit";

let d: Deployment;
beforeAll(async () => {
  d = await deploy({ services: ["usage", "keys", "example"], extra: { LOG_LEVEL: "trace" } });
});
afterAll(async () => {
  await d?.close();
});

describe("secrets never leak", () => {
  test("no key, key body, token or the JWT secret in any log line, error message or /metrics output", async () => {
    const secrets: string[] = [JWT_SECRET];
    const responses: Reply[] = [];
    const keep = (r: Reply) => (responses.push(r), r);
    const o1 = await newOwner("leak");
    const o2 = await newOwner("leak");
    secrets.push(o1.jwt, o2.jwt, o1.jwt.split(".")[2]!, o2.jwt.split(".")[2]!);

    // Issue, rotate, use, revoke.
    const g = keep(await req(`${d.keys!.url}/api/v1/keys/generate`, { method: "POST", headers: o1.headers, json: { label: "prod" } }));
    const k1: string = g.body.data.apiKey;
    const rg = await req(`${d.keys!.url}/api/v1/keys/regenerate`, { method: "POST", headers: o1.headers });
    const k2: string = rg.body.data.apiKey;
    const k3: string = (await req(`${d.keys!.url}/api/v1/keys/generate`, { method: "POST", headers: o2.headers })).body.data.apiKey;
    secrets.push(k1, k2, k3, ...[k1, k2, k3].map((k) => k.slice(KEY_PREFIX.length)));
    for (const k of [k1, k2, k3]) {
      keep(await predict(d.example!, k));
      keep(await req(`${d.example!.url}/api/v1/loans/predict`, { method: "POST", headers: { authorization: `Bearer ${k}` }, json: { amount: -1 } }));
      keep(await req(`${d.example!.url}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": k + "x" }, json: {} }));
      await d.verify(k);
    }
    keep(await req(`${d.keys!.url}/api/v1/keys/revoke`, { method: "POST", headers: o2.headers }));
    keep(await predict(d.example!, k3));
    // Refusals that carry a token or key in the request.
    const forged = [await token(o1.sub, { secret: "another-secret-that-is-long-enough-000000" }), await token(o1.sub, { expSeconds: -1 }), unsignedToken({ sub: o1.sub })];
    secrets.push(...forged);
    for (const t of forged) keep(await req(`${d.keys!.url}/api/v1/keys/`, { headers: authHeader(t) }));
    keep(await req(`${d.keys!.url}/api/v1/keys/logs?page=${encodeURIComponent(k1)}`, { headers: o1.headers }));
    keep(await req(`${d.keys!.url}/api/v1/keys/generate`, { method: "POST", headers: o1.headers, body: `{"label": "${k1}` }));
    keep(await req(`${d.keys!.url}/api/v1/keys/generate`, { method: "POST", headers: { ...o1.headers, "content-type": "application/json" }, body: JSON.stringify({ label: k1 + k1 + k1 }) }));
    keep(await req(`${d.keys!.url}/api/v1/keys/${k1}`, { headers: o1.headers }));
    keep(await req(`${d.keys!.url}/api/v1/keys/?apiKey=${k1}`, { method: "DELETE", headers: { ...o1.headers, "x-api-key": k1, cookie: `k=${k1}` } }));
    keep(await req(`${d.keys!.url}/api/v1/keys/logs`, { headers: o1.headers }));
    await d.verify(undefined, JSON.stringify({ apiKey: k1 + "junk" }));
    await d.nc
      .jetstream()
      .publish(`${d.topo.prefix}usage.events`, new TextEncoder().encode(JSON.stringify([{ keyId: k1, ownerId: k2, endpoint: `/${k3}`, method: "POST", statusCode: 999, timestamp: "never" }])));
    await waitFor(async () => (await usageRows(d.sql, o1.sub)) >= 2, 10_000, "usage rows");

    // A key and a token in the request target, sent the ways that once reached a log or Bun's error page:
    // HTTP/1.0 without Host, and Hosts no URL can be built from.
    const rawBodies: string[] = [];
    for (const svc of [d.keys!, d.usage!, d.example!]) {
      const port = Number(new URL(svc.url).port);
      for (const host of [null, "", "[", "a@b", "é", `x:99999`, k1.slice(0, 3)]) {
        const hostLine = host === null ? "" : `Host: ${host}\r\n`;
        for (const target of [`/x/${k1}/${o1.jwt}`, `/api/v1/keys/${k1}?t=${o1.jwt}`]) {
          const r = await rawRequest(port, `GET ${target} HTTP/1.0\r\n${hostLine}Authorization: Bearer ${o1.jwt}\r\nx-api-key: ${k1}\r\n\r\n`);
          expect(r.status).toBeLessThan(500);
          rawBodies.push(r.raw);
        }
      }
    }

    // Every service's /metrics, the example's too.
    const metrics = await Promise.all([d.keys!, d.usage!, d.example!].map(async (s) => (await req(`${s.url}/metrics`)).text));
    expect(metrics.every((m) => m.includes("# TYPE"))).toBe(true);
    // A graceful stop flushes every log line (shutdown lines included) before we read them.
    for (const s of [d.example!, d.keys!, d.usage!]) expect(await s.child.kill("SIGTERM")).toBe(0);
    const logs = [d.keys!, d.usage!, d.example!].map((s) => s.child.output());
    expect(logs[0]!.split("\n").filter(Boolean).length).toBeGreaterThan(10); // the capture really works

    const leaks: string[] = [];
    const where: [string, string][] = [
      ["keys log", logs[0]!],
      ["usage log", logs[1]!],
      ["example log", logs[2]!],
      ["keys /metrics", metrics[0]!],
      ["usage /metrics", metrics[1]!],
      // Error messages: every refusal's body (a 201/200 that issued a key is allowed to carry it).
      [
        "error bodies",
        responses
          .filter((r) => r.status >= 400)
          .map((r) => r.text)
          .join("\n"),
      ],
      ["raw answers (no or bad Host)", rawBodies.join("\n")],
    ];
    for (const [name, text] of where) for (const s of secrets) if (text.includes(s)) leaks.push(`${name} contains ${s.slice(0, 12)}…`);
    expect(leaks).toEqual([]);
    // And nothing shaped like a key or a JWT at all.
    for (const [name, text] of where) {
      expect({ name, key: /sk_live_[0-9A-Za-z]{20,}/.test(text) }).toEqual({ name, key: false });
      expect({ name, jwt: /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}/.test(text) }).toEqual({ name, jwt: false });
    }
  }, 60_000);
});
