/**
 * The usage service in-process: a database and NATS names of the test's own,
 * usage services built from the real app, a JetStream publisher, and a real
 * keys service (same database, schema "keys") that answers keys.lookup for
 * the keys the test publishes with.
 */
import { createHash } from "node:crypto";
import { connect, type NatsConnection } from "nats";
import postgres from "postgres";
import { isStorableText, subjects, type Topology } from "@riskinmind/contracts";
import type { Logger, Sql } from "@riskinmind/runtime";
import { insertKey, lockOwner, revokeActive } from "@riskinmind/keys-service/src/keys/repo";
import { NO_RESTRICTIONS } from "@riskinmind/keys-service/src/keys/policy";
import type { KeysService } from "@riskinmind/keys-service/src/app";
import { createTestDb, migrateSchemas, type TestDb } from "../db";
import { natsOptions, testNats, testTopology } from "../nats";
import { forFile } from "../per-file";
import { startKeys, startUsage, type UsageInstance } from "./services";

export type { UsageInstance } from "./services";

export interface UsageStack {
  db: TestDb;
  topo: Topology;
  sql: Sql;
  /** The test side's connection (admin): publishes events, inspects the stream. */
  nc: NatsConnection;
  subject: string;
  /** Builds and starts an in-process usage service (stopped by cleanup). */
  startService(opts?: { batchMax?: number; batchWaitMs?: number; lanes?: number; log?: Logger; lookupTimeoutMs?: number; readUrl?: string }): Promise<UsageInstance>;
  /** The in-process keys service answering keys.lookup (stop/start it to simulate its absence). */
  keys: KeysService;
  /** Issues keys with these ids to these owners in the keys table (through the keys repo). */
  issueKeys(pairs: Iterable<readonly [keyId: string, ownerId: string]>): Promise<void>;
  /**
   * Publishes to usage.events. Unless `issue: false`, first issues every
   * (keyId, ownerId) pair of the payload whose key does not exist yet, so the
   * events are genuine; a pair whose key belongs to someone else stays forged.
   */
  publish(payload: unknown, opts?: { issue?: boolean }): Promise<number>;
  publishRaw(data: string | Uint8Array): Promise<number>;
  count(where?: string): Promise<number>;
  cleanup(): Promise<void>;
}

/** `db`: a database of the caller's (e.g. on a primary with a replica, see pg-replica.ts) instead of a fresh one on DATABASE_URL; it is dropped by cleanup. */
export async function usageStack(opts: { db?: TestDb } = {}): Promise<UsageStack> {
  const db = opts.db ?? (await createTestDb());
  const topo = testTopology();
  const sql = postgres(db.url, { max: 4, onnotice: () => {} });
  await migrateSchemas(sql, ["usage", "keys"]);
  const nc = await connect(natsOptions());
  const keys = await startKeys({ db, topo, nats: testNats(), listen: false });
  const issued = new Map<string, string>();
  let issuing: Promise<void> = Promise.resolve();
  async function issueNow(pairs: Iterable<readonly [string, string]>): Promise<void> {
    for (const [keyId, ownerId] of pairs) {
      if (issued.has(keyId)) continue;
      await sql.begin(async (tx) => {
        // The owner's previous key is revoked, as regenerate would: any number of keys per owner, one active.
        await lockOwner(tx, ownerId);
        await revokeActive(tx, { ownerId, mode: "live" });
        const hash = createHash("sha256").update(`test-key:${keyId}`).digest();
        await insertKey(tx, { id: keyId, owner_id: ownerId, key_hash: hash, key_last4: keyId.slice(-4).padStart(4, "0"), label: null, mode: "live", ...NO_RESTRICTIONS });
      });
      issued.set(keyId, ownerId);
    }
  }

  const subject = subjects(topo).usageEvents;
  const js = nc.jetstream();
  const running: UsageInstance[] = [];
  const enc = new TextEncoder();

  const stack: UsageStack = {
    db,
    topo,
    sql,
    nc,
    subject,
    keys: keys.service,
    issueKeys(pairs) {
      // One at a time: concurrent publishes may name the same new key.
      const run = issuing.then(() => issueNow(pairs));
      issuing = run.catch(() => {});
      return run;
    },
    async startService(opts = {}) {
      const r = await startUsage({
        db,
        topo,
        nats: testNats(),
        ...(opts.log ? { log: opts.log } : {}),
        ...(opts.readUrl ? { readUrl: opts.readUrl } : {}),
        config: { INGEST_BATCH_MAX: opts.batchMax ?? 500, INGEST_BATCH_WAIT_MS: opts.batchWaitMs ?? 5, INGEST_LANES: opts.lanes ?? 2, KEY_LOOKUP_TIMEOUT_MS: opts.lookupTimeoutMs ?? 2000 },
      });
      running.push(r);
      return r;
    },
    async publish(payload, opts = {}) {
      if (opts.issue !== false) await stack.issueKeys(genuinePairs(payload, issued));
      return stack.publishRaw(JSON.stringify(payload));
    },
    async publishRaw(data) {
      const ack = await js.publish(subject, typeof data === "string" ? enc.encode(data) : data);
      return ack.seq;
    },
    async count(where = "true") {
      const [row] = await sql.unsafe(`select count(*)::int as n from usage.events where ${where}`);
      return row!.n as number;
    },
    async cleanup() {
      for (const r of running) await r.stop().catch(() => {});
      await keys.close().catch(() => {});
      const jsm = await nc.jetstreamManager().catch(() => undefined);
      await jsm?.streams.delete(topo.stream).catch(() => {});
      await nc.close();
      await sql.end({ timeout: 2 });
      await db.drop();
    },
  };
  return stack;
}

/** The (keyId, ownerId) pairs of a payload that can be issued and are not yet. */
function genuinePairs(payload: unknown, issued: Map<string, string>): [string, string][] {
  const items = Array.isArray(payload) ? payload : [payload];
  const out = new Map<string, string>();
  for (const e of items) {
    const { keyId, ownerId } = (e ?? {}) as { keyId?: unknown; ownerId?: unknown };
    if (typeof keyId !== "string" || typeof ownerId !== "string") continue;
    if (!/^key_[0-9A-Za-z]+$/.test(keyId) || ownerId.length < 1 || ownerId.length > 255 || !isStorableText(ownerId)) continue;
    if (issued.has(keyId) || out.has(keyId)) continue;
    out.set(keyId, ownerId);
  }
  return [...out];
}

/** The whole per-file setup of a usage test: a usage stack, cleaned up after the file. */
export function useUsageStack(): UsageStack {
  return forFile(usageStack, (s) => s.cleanup());
}
