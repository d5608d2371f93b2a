/**
 * `bun run audit:verify` as a process against a real database: intact chains
 * pass (exit 0, a line per owner); an entry altered behind the database's
 * back (the append-only trigger disabled by a superuser) fails, naming that
 * entry (exit 1); a bad invocation is a usage error (exit 2).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createTestDb, migrateSchemas, spawnChild, type TestDb } from "@riskinmind/testkit";
import { recordChange } from "../../services/keys/src/audit/record";

let db: TestDb;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createTestDb();
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
  await migrateSchemas(sql, ["keys"]);
});
afterAll(async () => {
  await sql.end();
  await db.drop();
});

async function verify(args: string[] = [], url = db.url): Promise<{ code: number; out: string }> {
  const child = spawnChild(["bun", "run", "audit:verify", ...args], { DATABASE_URL: url, PATH: process.env.PATH ?? "" });
  const code = await child.exited;
  return { code, out: child.output() };
}

async function chain(ownerId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { entry } = await sql.begin((tx) =>
      recordChange(tx, {
        ownerId,
        keyId: `key_${i}`,
        mode: "live",
        action: i === 0 ? "key.generated" : "key.updated",
        actor: { type: "owner", id: ownerId },
        changes: { label: { from: `l${i}`, to: `l${i + 1}` } },
      }),
    );
    ids.push(entry.id);
  }
  return ids;
}

describe("audit:verify", () => {
  test("intact chains: exit 0, one ok line per owner", async () => {
    await chain("good_a", 3);
    await chain("good_b", 2);
    const r = await verify();
    expect(r.code).toBe(0);
    expect(r.out).toContain("ok owner=good_a entries=3");
    expect(r.out).toContain("ok owner=good_b entries=2");
    const one = await verify(["--owner", "good_b"]);
    expect(one.code).toBe(0);
    expect(one.out).toContain("ok owner=good_b entries=2");
    expect(one.out).not.toContain("good_a");
  });

  test("an entry's changes altered with the trigger disabled: exit 1, naming that entry and seq; the other chains still ok", async () => {
    const ids = await chain("tamper_a", 3);
    await chain("tamper_ok", 2);
    await sql.begin(async (tx) => {
      await tx`alter table keys.audit_log disable trigger audit_log_no_update`;
      await tx`update keys.audit_log set changes = '{"label":{"from":"l1","to":"evil"}}' where id = ${ids[1]!}`;
      await tx`alter table keys.audit_log enable trigger audit_log_no_update`;
    });
    // The trigger is back: the database refuses the next attempt.
    await expect(sql`update keys.audit_log set changes = '{}' where id = ${ids[2]!}`).rejects.toThrow(/append-only/);
    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.out).toContain(`BROKEN owner=tamper_a entries_ok=1 first_bad: id=${ids[1]} seq=2:`);
    expect(r.out).toContain("stored hash does not match");
    expect(r.out).toContain("ok owner=tamper_ok entries=2");
    const only = await verify(["--owner", "tamper_ok"]);
    expect(only.code).toBe(0);
  });

  test("a removed entry: exit 1, the next one named for the gap", async () => {
    const ids = await chain("gap_a", 3);
    await sql.begin(async (tx) => {
      await tx`alter table keys.audit_log disable trigger audit_log_no_update`;
      await tx`delete from keys.audit_log where id = ${ids[1]!}`;
      await tx`alter table keys.audit_log enable trigger audit_log_no_update`;
    });
    const r = await verify(["--owner", "gap_a"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`first_bad: id=${ids[2]} seq=3: seq 3 where 2 was expected`);
  });

  test("usage errors: exit 2", async () => {
    expect((await verify(["--bogus"])).code).toBe(2);
    expect((await verify(["--owner"])).code).toBe(2);
    expect((await verify(["extra"])).code).toBe(2);
    const bad = await verify([], "mysql://x");
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("DATABASE_URL");
  });
});
