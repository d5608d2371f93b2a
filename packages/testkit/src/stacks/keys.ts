/**
 * The keys service in-process on real Postgres and NATS: one database and
 * one topology per test file, as many instances as a test wants.
 * `useKeysStack()` is the whole per-file setup of a keys test.
 */
import { connect, type NatsConnection } from "nats";
import type { Topology, VerifyReply } from "@riskinmind/contracts";
import { createSql, type Sql } from "@riskinmind/runtime";
import { verifyKey } from "../bus";
import { createTestDb, migrateSchemas, type TestDb } from "../db";
import { natsOptions, testNats, testTopology } from "../nats";
import { forFile } from "../per-file";
import { startKeys, type KeysInstance } from "./services";

export type { KeysInstance } from "./services";

export interface KeysStack {
  db: TestDb;
  topo: Topology;
  /** A test-side connection (admin) for NATS requests and direct table checks. */
  nc: NatsConnection;
  sql: Sql;
  /** Another keys instance on this database and topology, with these environment overrides; closed by close(). */
  start(extra?: Record<string, string>): Promise<KeysInstance>;
  /** keys.verify over real NATS about a key (sent as its SHA-256, as the guard does), or a raw payload. */
  verify(apiKey: string | undefined, raw?: Uint8Array | string): Promise<VerifyReply & Record<string, any>>;
  close(): Promise<void>;
}

export async function keysStack(): Promise<KeysStack> {
  const db = await createTestDb();
  const topo = testTopology();
  const sql = createSql(db.url, { max: 4 });
  await migrateSchemas(sql, ["keys"]);
  const nc = await connect(natsOptions());
  const instances: KeysInstance[] = [];
  return {
    db,
    topo,
    nc,
    sql,
    async start(extra = {}) {
      const inst = await startKeys({ db, topo, nats: testNats(), env: extra });
      instances.push(inst);
      return inst;
    },
    verify: (apiKey, raw) => verifyKey(nc, topo, apiKey, raw),
    async close() {
      for (const i of instances) await i.close().catch(() => {});
      await nc.close();
      await sql.end({ timeout: 1 });
      await db.drop();
    },
  };
}

/** A keys stack for one test file and its first instance `a`. */
export interface KeysFile extends KeysStack {
  a: KeysInstance;
}

/** The whole per-file setup of a keys test: a keys stack and its first instance started with `first` (environment overrides). */
export function useKeysStack(first: Record<string, string> = {}): KeysFile {
  return forFile(
    keysStack,
    (s) => s.close(),
    async (s) => ({ a: await s.start(first) }),
  );
}
