/**
 * No plaintext key at rest: after generating, regenerating, verifying and
 * using keys, a dump of the whole test database holds none of the keys issued
 * (nor their random bodies), only their 32-byte SHA-256; and verification
 * looks keys up by that hash, never by comparing plaintext.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hashKey, KEY_PREFIX } from "@riskinmind/contracts";
import { deploy, type Deployment, issueKey, newOwner, predict, req, usageRows, waitFor } from "@riskinmind/testkit";

let d: Deployment;
beforeAll(async () => {
  d = await deploy({ services: ["usage", "keys", "example"] });
});
afterAll(async () => {
  await d?.close();
});

/** The whole database as text: pg_dump when its version fits the server, else every row of every table. */
async function dumpDatabase(): Promise<{ how: string; text: string }> {
  for (const bin of ["/usr/lib/postgresql/15/bin/pg_dump", "/usr/bin/pg_dump"]) {
    if (!existsSync(bin)) continue;
    const p = Bun.spawnSync([bin, "--no-owner", "--dbname", d.db.url], { stdout: "pipe", stderr: "pipe" });
    if (p.exitCode === 0) return { how: bin, text: p.stdout.toString() };
  }
  // e.g. an embedded Postgres newer than the system's pg_dump: read every table ourselves.
  const tables = await d.sql`select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`;
  let text = "";
  for (const t of tables) {
    const rows = await d.sql.unsafe(`select * from "${t.table_schema}"."${t.table_name}"`);
    text += `-- ${t.table_schema}.${t.table_name}\n` + rows.map((r) => JSON.stringify(r, (_k, v) => (v?.type === "Buffer" ? Buffer.from(v.data).toString("hex") : v))).join("\n") + "\n";
  }
  return { how: "select * of every table", text };
}

describe("keys at rest", () => {
  test("a dump of the whole database holds none of the issued keys nor their bodies, only their SHA-256", async () => {
    const issued: string[] = [];
    for (let i = 0; i < 4; i++) {
      const owner = await newOwner("atrest");
      const k = await issueKey(d.keys!, owner);
      issued.push(k.apiKey);
      expect((await predict(d.example!, k.apiKey)).status).toBe(200);
      const r = await req(`${d.keys!.url}/api/v1/keys/regenerate`, { method: "POST", headers: owner.headers, json: { label: `label ${i}` } });
      issued.push(r.body.data.apiKey);
      expect((await predict(d.example!, r.body.data.apiKey)).status).toBe(200);
      await d.verify(k.apiKey);
      if (i % 2 === 0) await req(`${d.keys!.url}/api/v1/keys/revoke`, { method: "POST", headers: owner.headers });
      await waitFor(async () => (await usageRows(d.sql, owner.sub)) === 2, 10_000, "usage rows");
    }
    // last_used_at is flushed every few seconds: wait for it so every column has its data.
    await waitFor(async () => (await d.sql`select count(*)::int as n from keys.api_keys where last_used_at is not null`)[0]!.n >= 4, 15_000, "last_used_at flushed");
    const { how, text } = await dumpDatabase();
    expect(text).toContain("api_keys");
    expect(text.length).toBeGreaterThan(1000);
    for (const key of issued) {
      const body = key.slice(KEY_PREFIX.length);
      expect(text.includes(key)).toBe(false);
      expect(text.includes(body)).toBe(false);
      expect(text.includes(body.slice(0, 43))).toBe(false); // the random part without its checksum
      // What is there instead: the hash (so the dump really holds the key rows).
      expect(text.includes(hashKey(key).toString("hex"))).toBe(true);
    }
    expect(text).not.toMatch(/sk_live_[0-9A-Za-z]{49}/);
    console.log(`[at-rest] ${issued.length} keys checked against a ${text.length}-byte dump (${how})`);
  }, 60_000);

  test("the keys table has a 32-byte SHA-256 key_hash and no column that could hold a plaintext key", async () => {
    const cols = await d.sql`select column_name, data_type from information_schema.columns where table_schema = 'keys' and table_name = 'api_keys' order by ordinal_position`;
    const names = cols.map((c) => c.column_name);
    expect(names).toEqual([
      "id",
      "owner_id",
      "key_hash",
      "key_last4",
      "label",
      "status",
      "created_at",
      "revoked_at",
      "last_used_at",
      // issue 11: policies, none of which could hold a key (text[] of scopes and canonical addresses, numbers, dates)
      "mode",
      "expires_at",
      "scopes",
      "ip_allowlist",
      "rate_limit",
      "rate_window_s",
      "quota_limit",
      "quota_period",
      "quota_anchor_day",
      "grace_until",
      "changed_at",
      // issue 13: the lifecycle sweep's markers (a timestamp each)
      "expiry_recorded_for",
      "grace_recorded_at",
    ]);
    expect(cols.find((c) => c.column_name === "key_hash")!.data_type).toBe("bytea");
    const owner = await newOwner("hashlen");
    const k = await issueKey(d.keys!, owner);
    const [row] = await d.sql`select octet_length(key_hash) as len, key_hash, key_last4 from keys.api_keys where id = ${k.keyId}`;
    expect(row!.len).toBe(32);
    expect(Buffer.from(row!.key_hash).equals(createHash("sha256").update(k.apiKey).digest())).toBe(true);
    expect(row!.key_last4).toBe(k.apiKey.slice(-4)); // the snippet, 4 of 49 random chars
    // No row anywhere in the keys schema carries the plaintext.
    const [hit] = await d.sql`select count(*)::int as n from keys.api_keys t where t::text like ${"%" + k.apiKey.slice(8, 30) + "%"}`;
    expect(hit!.n).toBe(0);
  });

  test("verification looks a key up by its SHA-256 (an index probe), never by comparing plaintext", () => {
    // Code-level: hashKey is SHA-256, and the only lookup of the verify path is by key_hash,
    // with the digest spelled by the request's hex (the keys service never receives the key).
    expect(hashKey("sk_live_x").equals(createHash("sha256").update("sk_live_x").digest())).toBe(true);
    const root = join(import.meta.dir, "../../services/keys/src");
    const repo = readFileSync(join(root, "keys/repo.ts"), "utf8");
    const verifySrc = readFileSync(join(root, "verify/verify.ts"), "utf8");
    const responderSrc = readFileSync(join(root, "verify/responder.ts"), "utf8");
    expect(repo).toMatch(/select id, owner_id, status, mode, grace_until, \$\{sql\(POLICY_COLUMNS\)\} from keys\.api_keys where key_hash = \$\{hash\}/);
    expect(verifySrc).toMatch(/const digest = Buffer\.from\(keyHash, "hex"\)/);
    expect(verifySrc).toMatch(/findByHash\(deps\.sql, digest\)/);
    expect(responderSrc).toMatch(/verifyKey\(deps, \{ keyHash: req\.keyHash \}\)/);
    // No plaintext key on the verify path at all, so nothing to compare against anything stored.
    expect(verifySrc + responderSrc).not.toMatch(/apiKey|timingSafeEqual/);
  });
});
