/**
 * `bun bench/export-check.ts [rows] [runs]`: the benchmark's export row alone,
 * at the full benchmark's size for the heavy owner (2,000,000 rows by
 * default) without loading the other 8,000,000 rows: one owner's rows
 * generated as bench/lib/data.ts does, the real keys and usage services as
 * child processes, about a thousand /logs requests first (WARM=n) as the
 * benchmark makes before its export, then `runs` NDJSON exports (FORMAT=csv
 * for CSV), each timed and its keys (and usage) RSS growth sampled as
 * bench/cases/logs.ts samples it, with the CPU each process used meanwhile.
 * EXPORT_CHECK_DB=<name> keeps the rows in that database (made when missing)
 * for the next run; without it the run's database is dropped.
 */
import { readdirSync, readFileSync } from "node:fs";
import postgres from "postgres";
import { token } from "@riskinmind/testkit";
import { topologyFor } from "./lib/context";
import { drainExport, rssOf } from "./lib/export-read";
import { benchSql, createBenchDb } from "./lib/db";
import { runTag } from "./lib/keys";
import { serviceEnv, startKeys, startUsage } from "./lib/procs";

const rows = Number(process.argv[2] ?? 2_000_000);
const runs = Number(process.argv[3] ?? 3);
const owner = "heavy_owner";
const T0 = Date.parse("2026-01-01T00:00:00Z") / 1000;
const log = (m: string) => process.stderr.write(`[export-check] ${m}\n`);

process.env.DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/postgres";
const kept = process.env.EXPORT_CHECK_DB;
if (kept) {
  // Made on first use and never dropped: the rows stay for the next run.
  const a = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  if ((await a`select 1 from pg_database where datname = ${kept}`).length === 0) await a.unsafe(`create database ${kept}`);
  await a.end();
}
const db = kept ? { url: Object.assign(new URL(process.env.DATABASE_URL), { pathname: `/${kept}` }).toString(), name: kept } : await createBenchDb();
const sql = benchSql(db.url);
const tag = runTag();
const env = serviceEnv(db.url, topologyFor(tag), { READ_RATE_LIMIT_PER_MINUTE: "100000000" });
const [keys, usage] = await Promise.all([startKeys(env), startUsage(env)]);

/** CPU seconds (user + system) a process has used so far. */
function cpuS(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** Pids of the processes named `comm` (nats-server, postgres: shared with others, so a rough share). */
function pidsOf(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === comm) out.push(Number(d));
    } catch {}
  }
  return out;
}

function cpuNow(): Record<string, number> {
  const sum = (pids: number[]) => pids.reduce((a, p) => a + cpuS(p), 0);
  return { keys: cpuS(keys.child.proc.pid), usage: cpuS(usage.child.proc.pid), client: cpuS(process.pid), nats: sum(pidsOf("nats-server")), postgres: sum(pidsOf("postgres")) };
}

const rssMb = (pid: number): number => (rssOf(pid) ?? Number.NaN) / 1_048_576;

try {
  const [have] = await sql<{ n: string }[]>`select coalesce((select total from usage.owner_counters where owner_id = ${owner} and mode = 'live'), 0) as n`;
  if (Number(have!.n) !== rows) {
    const t = performance.now();
    await sql`select usage.ensure_partitions(to_timestamp(${T0}::float8), to_timestamp(${T0 + rows}::float8))`;
    await sql`delete from usage.events where owner_id = ${owner}`;
    await sql`
      insert into usage.events (owner_id, mode, seq, event_key, key_id, endpoint, method, status_code, ts, duration_ms)
      select ${owner}, 'live', s, 'h:' || lpad(s::text, 10, '0'), 'key_heavy', '/api/v1/loans/predict', 'POST', 200, to_timestamp(${T0}::float8 + s), (s % 50)::float8
      from generate_series(1, ${rows}::bigint) s`;
    await sql`
      insert into usage.owner_counters (owner_id, mode, total) values (${owner}, 'live', ${rows}::bigint)
      on conflict (owner_id, mode) do update set total = excluded.total`;
    await sql`vacuum analyze usage.events`;
    log(`loaded ${rows} rows in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const jwt = await token(owner);
  // As in the full benchmark, the keys service has served about a thousand /logs pages before the export.
  for (let i = 0; i < Number(process.env.WARM ?? 1000); i++) {
    const r = await fetch(`${keys.url}/api/v1/keys/logs?page=${1 + (i % 3) * 10_000}&limit=10`, { headers: { authorization: `Bearer ${jwt}` } });
    if (r.status !== 200) throw new Error(`/logs answered ${r.status}`);
    await r.arrayBuffer();
  }
  for (let i = 0; i < runs; i++) {
    const kBefore = rssMb(keys.child.proc.pid);
    const uBefore = rssMb(usage.child.proc.pid);
    let kPeak = kBefore;
    let uPeak = uBefore;
    const cpu0 = cpuNow();
    const t = performance.now();
    const res = await fetch(`${keys.url}/api/v1/keys/logs/export?format=${process.env.FORMAT ?? "ndjson"}`, { headers: { authorization: `Bearer ${jwt}` } });
    if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
    const lines = await drainExport(res, () => {
      kPeak = Math.max(kPeak, rssMb(keys.child.proc.pid));
      uPeak = Math.max(uPeak, rssMb(usage.child.proc.pid));
    });
    const s = (performance.now() - t) / 1000;
    const cpu1 = cpuNow();
    const cpu = Object.entries(cpu1)
      .map(([k, v]) => `${k} ${(v - cpu0[k]!).toFixed(1)}`)
      .join(", ");
    const want = process.env.FORMAT === "csv" ? rows + 1 : rows;
    if (lines !== want) throw new Error(`export gave ${lines} lines, want ${want}`);
    log(
      `run ${i + 1}: ${rows} rows in ${s.toFixed(2)} s = ${Math.round(rows / s)} rows/s; keys RSS ${kBefore.toFixed(0)} → peak ${kPeak.toFixed(0)} MB (growth ${(kPeak - kBefore).toFixed(1)} MB); usage RSS ${uBefore.toFixed(0)} → ${uPeak.toFixed(0)} MB; CPU s: ${cpu}`,
    );
  }
} finally {
  keys.child.kill();
  usage.child.kill();
  await sql.end({ timeout: 5 });
  if (kept) log(`kept database ${db.name}`);
  else {
    const a = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    await a.unsafe(`drop database if exists ${db.name} with (force)`);
    await a.end();
  }
}
process.exit(0);
