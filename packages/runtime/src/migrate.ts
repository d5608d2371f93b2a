import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "postgres";

/**
 * Applies `NNN_name.sql` files from `dir` in order, each once, recorded in
 * `<schema>.schema_migrations`. A transaction-level advisory lock keyed by
 * the schema makes replicas that start together take turns.
 */
export async function migrate(sql: Sql, schema: string, dir: string): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort();
  const applied: string[] = [];
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext(${"migrate:" + schema}))`;
    await tx.unsafe(`create schema if not exists "${schema}"`);
    await tx.unsafe(`create table if not exists "${schema}".schema_migrations (name text primary key, applied_at timestamptz not null default now())`);
    const done = new Set((await tx.unsafe(`select name from "${schema}".schema_migrations`)).map((r) => r.name as string));
    for (const file of files) {
      if (done.has(file)) continue;
      await tx.unsafe(readFileSync(join(dir, file), "utf8"));
      await tx.unsafe(`insert into "${schema}".schema_migrations (name) values ($1)`, [file]);
      applied.push(file);
    }
  });
  return applied;
}
