/** The bench's data loaders against the real schemas (the services' own migrations) on real Postgres. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres, { type Sql } from "postgres";
import { hashKey } from "@riskinmind/contracts";
import { migrate } from "@riskinmind/runtime";
import { growUsage, loadKeys, usageCounts } from "../lib/data";
import { benchKey, keyOwner, runTag } from "../lib/keys";
import { createTestDb, type TestDb } from "@riskinmind/testkit";

let db: TestDb;
let sql: Sql;
const tag = runTag();
const shape = { heavyOwner: "heavy", owners: 10 };

beforeAll(async () => {
  db = await createTestDb();
  sql = postgres(db.url, { max: 4, onnotice: () => {} });
  await migrate(sql, "keys", `${import.meta.dir}/../../services/keys/migrations`);
  await migrate(sql, "usage", `${import.meta.dir}/../../services/usage/migrations`);
});

afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

describe("loadKeys", () => {
  test("COPYs active keys whose stored hash is the product's hash of the plaintext, in two stages", async () => {
    await loadKeys(sql, tag, 0, 500);
    await loadKeys(sql, tag, 500, 1200);
    const [r0] = await sql<{ n: number }[]>`select count(*)::int as n from keys.api_keys where status = 'ACTIVE'`;
    expect(r0!.n).toBe(1200);
    for (const i of [0, 499, 500, 1199]) {
      const [r] = await sql`select owner_id, key_last4 from keys.api_keys where key_hash = ${hashKey(benchKey(tag, i))}`;
      expect(r).toEqual({ owner_id: keyOwner(i), key_last4: benchKey(tag, i).slice(-4) });
    }
  });
});

describe("growUsage", () => {
  test("grows the table with gap-free per-owner seq and counters equal to the row counts", async () => {
    await growUsage(sql, shape, 0, 1000);
    await growUsage(sql, shape, 1000, 5000);
    const want = usageCounts(shape, 5000);
    expect(want).toEqual({ heavy: 1000, perOwner: 400 });
    const owners = await sql<{ owner_id: string; n: number; lo: string; hi: string; total: string }[]>`
      select e.owner_id, count(*)::int as n, min(seq)::text as lo, max(seq)::text as hi, c.total::text as total
      from usage.events e join usage.owner_counters c using (owner_id)
      group by e.owner_id, c.total order by e.owner_id`;
    expect(owners).toHaveLength(11);
    for (const o of owners) {
      const expected = o.owner_id === "heavy" ? want.heavy : want.perOwner;
      expect(o).toMatchObject({ n: expected, lo: "1", hi: String(expected), total: String(expected) });
    }
    // Newest first by seq is newest first by time too.
    const [t] = await sql`select bool_and(ts > prev) as ordered from (select ts, lag(ts) over (order by seq) as prev from usage.events where owner_id = 'heavy') x where prev is not null`;
    expect(t!.ordered).toBe(true);
  });
});
