/**
 * The audit log's storage (services/keys/src/audit): entries chain per owner,
 * the database refuses update, delete, truncate and an insert that does not
 * extend the chain, and an entry with its key event commits with the
 * transaction or not at all. Real Postgres, a database of this file's own.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createTestDb, migrateSchemas, type TestDb } from "@riskinmind/testkit";
import { auditEntryHash, canonicalJson } from "../../services/keys/src/audit/chain";
import { recordChange } from "../../services/keys/src/audit/record";
import { type AuditRow, chainedOf } from "../../services/keys/src/audit/repo";

let db: TestDb;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createTestDb();
  sql = postgres(db.url, { max: 4, onnotice: () => {} });
  await migrateSchemas(sql, ["keys"]);
});
afterAll(async () => {
  await sql.end();
  await db.drop();
});

const owner = { type: "owner" as const, id: "owner_a" };
const rec = (ownerId: string, action: "key.generated" | "key.updated" = "key.generated") => ({
  ownerId,
  keyId: "key_1",
  mode: "live" as const,
  action,
  actor: owner,
  changes: { label: "ci", scopes: { from: ["*"], to: ["loans:predict"] } },
});

describe("audit entries", () => {
  test("chain per owner: seq 1, 2, … and each prevHash the previous hash; the hash covers every field", async () => {
    const a = await sql.begin((tx) => recordChange(tx, rec("chain_a")));
    const b = await sql.begin((tx) => recordChange(tx, rec("chain_a", "key.updated")));
    const other = await sql.begin((tx) => recordChange(tx, rec("chain_b")));
    expect(a.entry.prevHash).toBeNull();
    expect(b.entry.prevHash).toBe(a.entry.hash);
    expect(other.entry.prevHash).toBeNull();
    const rows = await sql`select * from keys.audit_log where owner_id = 'chain_a' order by seq`;
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2]);
    // Recomputed from the stored row (jsonb reorders keys; the canonical form does not care).
    const r = rows[1]!;
    const again = auditEntryHash(chainedOf(r as unknown as AuditRow));
    expect(again.toString("hex")).toBe(b.entry.hash);
    expect(
      auditEntryHash({
        id: r.id,
        ownerId: r.owner_id,
        seq: 2,
        action: r.action,
        keyId: r.key_id,
        mode: r.mode,
        actor: owner,
        ip: null,
        userAgent: null,
        requestId: null,
        at: r.at,
        changes: { label: "other" },
        prevHash: r.prev_hash,
      }).toString("hex"),
    ).not.toBe(b.entry.hash);
  });

  test("the key event is in the outbox beside its entry", async () => {
    const { event } = await sql.begin((tx) => recordChange(tx, rec("outbox_a")));
    const [row] = await sql`select subject_token, payload from keys.outbox where event_id = ${event.id}`;
    expect(row?.subject_token).toBe("created");
    expect(row?.payload).toMatchObject({ id: event.id, type: "key.created", data: { ownerId: "outbox_a", keyId: "key_1", action: "key.generated" } });
  });

  test("a rolled-back change leaves neither entry nor event", async () => {
    let id = "";
    await expect(
      sql.begin(async (tx) => {
        id = (await recordChange(tx, rec("rollback_a"))).event.id;
        throw new Error("change failed");
      }),
    ).rejects.toThrow("change failed");
    expect(id).not.toBe("");
    expect((await sql`select 1 from keys.audit_log where owner_id = 'rollback_a'`).length).toBe(0);
    expect((await sql`select 1 from keys.outbox where event_id = ${id}`).length).toBe(0);
  });

  test("the database refuses update, delete and truncate", async () => {
    await sql.begin((tx) => recordChange(tx, rec("locked_a")));
    await expect(sql`update keys.audit_log set action = 'key.revoked' where owner_id = 'locked_a'`).rejects.toThrow(/append-only/);
    await expect(sql`delete from keys.audit_log where owner_id = 'locked_a'`).rejects.toThrow(/append-only/);
    await expect(sql`truncate keys.audit_log`).rejects.toThrow(/append-only/);
    expect((await sql`select 1 from keys.audit_log where owner_id = 'locked_a'`).length).toBe(1);
  });

  test("an insert that does not extend its owner's chain is refused", async () => {
    const { entry } = await sql.begin((tx) => recordChange(tx, rec("forge_a")));
    const forged = (seq: number, prev: Buffer | null) => sql`
      insert into keys.audit_log (id, owner_id, seq, action, key_id, mode, actor_type, actor_id, at, changes, prev_hash, hash)
      values (${`aud_forged${seq}`}, 'forge_a', ${seq}, 'key.revoked', 'key_1', 'live', 'owner', 'x', now(), '{}', ${prev}, ${Buffer.alloc(32)})`;
    await expect(forged(1, null)).rejects.toThrow(/does not extend/);
    await expect(forged(2, Buffer.alloc(32))).rejects.toThrow(/does not extend/);
    await expect(forged(3, Buffer.from(entry.hash, "hex"))).rejects.toThrow(/does not extend/);
  });

  test("canonical JSON sorts keys at every depth and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });
});
