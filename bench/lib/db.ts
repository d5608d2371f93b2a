import postgres, { type Sql } from "postgres";

export interface BenchDb {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  return process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
}

/** A database of the run's own (`rim_bench_<rand>`), dropped by `drop()`. */
export async function createBenchDb(): Promise<BenchDb> {
  const name = `rim_bench_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = postgres(adminUrl(), { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** The bench's own pool: a few connections, prepared statements. */
export function benchSql(url: string, max = 4): Sql {
  return postgres(url, { max, prepare: true, onnotice: () => {}, connection: { application_name: "rim-bench" } });
}
