/**
 * Postgres for tests: a fresh database per test file (the server comes from
 * test/preload.ts or DATABASE_URL), the services' migrations, and the
 * usage-table counts the fault tests assert on.
 */
import { join } from "node:path";
import postgres from "postgres";
import { migrate, type Sql } from "@riskinmind/runtime";

const ROOT = join(import.meta.dir, "../../..");
export const KEYS_MIGRATIONS = join(ROOT, "services/keys/migrations");
export const USAGE_MIGRATIONS = join(ROOT, "services/usage/migrations");

export function adminDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set (test/preload.ts should have set it)");
  return url;
}

/** A short random token for names, e.g. `k3x9q2`. */
export function uniqueSuffix(): string {
  return Math.random().toString(36).slice(2, 8) + Date.now().toString(36).slice(-3);
}

export interface TestDb {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database for one test file (or the benchmark: `prefix` "rim_bench"), dropped by `drop()`. */
export async function createTestDb(prefix = "rim_test"): Promise<TestDb> {
  const admin = postgres(adminDatabaseUrl(), { max: 1, onnotice: () => {} });
  const name = `${prefix}_${uniqueSuffix()}`;
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = postgres(adminDatabaseUrl(), { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** Applies the schemas a stack needs, in the order the services would (each is idempotent). */
export async function migrateSchemas(sql: Sql, schemas: readonly ("keys" | "usage")[]): Promise<void> {
  for (const s of schemas) await migrate(sql, s, s === "keys" ? KEYS_MIGRATIONS : USAGE_MIGRATIONS);
}

/** The Postgres URL of a test database as seen through a relay on `port` (see pgrelay.ts). */
export function viaPort(dbUrl: string, port: number): string {
  const u = new URL(dbUrl);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

/** Rows in usage.events for an owner. */
export async function usageRows(sql: Sql, ownerId: string): Promise<number> {
  const [r] = await sql`select count(*)::int as n from usage.events where owner_id = ${ownerId}`;
  return r!.n as number;
}

/** Event keys stored more than once (must always be 0). */
export async function usageDuplicates(sql: Sql): Promise<number> {
  const [r] = await sql`select count(*)::int as n from (select event_key from usage.events group by event_key having count(*) > 1) d`;
  return r!.n as number;
}
