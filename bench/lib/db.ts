import postgres, { type Sql } from "postgres";
import { createTestDb, type TestDb } from "@riskinmind/testkit";

/** The run's own database: the kit's, named `rim_bench_<rand>`. */
export type BenchDb = TestDb;

export function createBenchDb(): Promise<BenchDb> {
  process.env.DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/postgres";
  return createTestDb("rim_bench");
}

/** The bench's own pool: a few connections, prepared statements. */
export function benchSql(url: string, max = 4): Sql {
  return postgres(url, { max, prepare: true, onnotice: () => {}, connection: { application_name: "rim-bench" } });
}
