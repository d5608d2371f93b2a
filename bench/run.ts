/**
 * `bun run bench [-- --quick] [-- --json] [-- --only verify,ingest,usage,limits,retention,scaling]`: sets up its own database and NATS
 * names, starts the real services as child processes, loads the data, runs
 * every row group against its baseline measured in the same run, prints a
 * markdown table (and with --json the rows as one JSON array on the last
 * line of stdout), and cleans up. Progress goes to stderr.
 */
import { connect } from "nats";
import { subjects } from "@riskinmind/contracts";
import { FULL, QUICK, topologyFor, type Ctx } from "./lib/context";
import { benchSql, createBenchDb } from "./lib/db";
import { growUsage, loadKeys } from "./lib/data";
import { httpLoadTool } from "./lib/http-load";
import { ensureHttpLoadTool } from "./lib/wrk-install";
import { runTag } from "./lib/keys";
import { natsUrl, serviceEnv, startEcho, startHello, startKeys, startUsage } from "./lib/procs";
import { failedRow, markdown, jsonLine, type Row } from "./lib/table";
import { verifyRows } from "./cases/verify";
import { guardRows } from "./cases/guard";
import { ingestRows } from "./cases/ingest";
import { logsRows } from "./cases/logs";
import { usageAggregateRows } from "./cases/usage-aggregate";
import { managementRows } from "./cases/management";
import { growthRows, measureGrowthPoint, type GrowthPoint } from "./cases/growth";
import { revocationRows } from "./cases/revocation";
import { policyChangeRows } from "./cases/policy-change";
import { fairnessRows } from "./cases/fairness";
import { limitsRows } from "./cases/limits";
import { retentionRows } from "./cases/retention";
import { scalingRows } from "./cases/scaling";
import type { Child } from "@riskinmind/testkit";

const argv = process.argv.slice(2);
const args = new Set(argv);
// `--only ingest,logs` runs just those row groups (for working on one path).
const onlyAt = argv.indexOf("--only");
const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? "").split(",")) : null;
const sizes = args.has("--quick") ? QUICK : FULL;
// Groups that need only the small data set (the first keysSmall keys and rowsSmall rows): run alone, they skip the big load.
const SMALL_DATA_GROUPS = new Set(["scaling"]);
const smallDataOnly = only !== null && [...only].every((g) => SMALL_DATA_GROUPS.has(g));
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const out = await fn();
  log(`${what}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return out;
}

const tag = runTag();
const topo = topologyFor(tag);
const db = await createBenchDb();
const sql = benchSql(db.url);
const nc = await connect({ servers: natsUrl(), name: "bench" });
// Read limits raised for the throughput rows (one owner at 64 connections); the in-flight
// cap on /logs stays at its default, which is what the fairness row measures.
const env = serviceEnv(db.url, topo, { READ_RATE_LIMIT_PER_MINUTE: "100000000" });
const rows: Row[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
let failed = 0;
const services: [string, Child][] = [];

/** Runs one row group; a failure becomes a visible "not measured" row, not a crash. */
async function group(name: string, unit: string, fn: () => Promise<Row[]>): Promise<void> {
  if (only && !only.has(name)) return;
  try {
    rows.push(...(await timed(name, fn)));
  } catch (e) {
    failed++;
    log(`${name} FAILED: ${(e as Error).stack ?? e}`);
    for (const [svc, child] of services) log(`${svc} output (tail):\n${child.output().slice(-1500)}`);
    rows.push(failedRow(`${name}: not measured (${(e as Error).message.split("\n")[0]!.slice(0, 120)})`, unit));
  }
}

try {
  // Only the row groups that drive HTTP need wrk; the others should not wait for apt-get.
  const httpGroups = ["guard", "management", "fairness"];
  const load = !only || httpGroups.some((g) => only.has(g)) ? await ensureHttpLoadTool() : { tool: httpLoadTool(), note: "no HTTP rows selected" };
  log(`db ${db.name}, subjects ${topo.prefix}*, stream ${topo.stream}, ${args.has("--quick") ? "quick" : "full"} sizes, HTTP load by ${load.tool}${load.note ? ` (${load.note})` : ""}`);
  const [keys, usage, hello] = await timed("start keys, usage, hello", () => Promise.all([startKeys(env), startUsage(env), startHello(env)]));
  cleanups.push(
    () => keys.child.kill(),
    () => usage.child.kill(),
    () => hello.child.kill(),
  );
  services.push(["keys", keys.child], ["usage", usage.child]);
  const echoSubject = `${topo.prefix}bench.echo`;
  const echo = await startEcho(env, echoSubject);
  cleanups.push(() => echo.kill());
  const ctx: Ctx = { sizes, db, sql, nc, topo, subj: subjects(topo), env, tag, usageShape: { heavyOwner: "heavy_owner", owners: 1000 }, keys, usage, hello, echo, echoSubject, log };

  await timed(`load ${sizes.keysSmall} keys`, () => loadKeys(sql, tag, 0, sizes.keysSmall));
  await timed(`load ${sizes.rowsSmall} usage rows`, () => growUsage(sql, ctx.usageShape, 0, sizes.rowsSmall));
  let small: GrowthPoint | null = null;
  if (!smallDataOnly) {
    try {
      small = await timed("growth point (small)", () => measureGrowthPoint(ctx, sizes.keysSmall, sizes.rowsSmall));
    } catch (e) {
      log(`growth point (small) FAILED: ${(e as Error).message}`);
    }
    await timed(`load keys up to ${sizes.keys}`, () => loadKeys(sql, tag, sizes.keysSmall, sizes.keys));
    await timed(`load usage rows up to ${sizes.rows}`, () => growUsage(sql, ctx.usageShape, sizes.rowsSmall, sizes.rows));
  }
  // A bulk-loaded table is vacuumed and checkpointed before timing, as a
  // production table would be, so autovacuum and checkpoints stay out of the numbers.
  await timed("vacuum analyze + checkpoint", async () => {
    await sql`vacuum analyze keys.api_keys`;
    await sql`vacuum analyze usage.events`;
    await sql`checkpoint`;
  });

  await group("verify", "req/s", () => verifyRows(ctx));
  await group("growth", "ms", async () => {
    if (!small) throw new Error("small growth point failed");
    return growthRows(small, await measureGrowthPoint(ctx, sizes.keys, sizes.rows));
  });
  // Guard last but one: its load records usage events the usage service then
  // ingests for a while; ingest also waits for the consumer to be idle.
  await group("ingest", "events/s", () => ingestRows(ctx));
  await group("logs", "ms", () => logsRows(ctx));
  await group("usage", "ms", () => usageAggregateRows(ctx));
  await group("management", "req/s", () => managementRows(ctx));
  await group("fairness", "ms", () => fairnessRows(ctx));
  await group("guard", "req/s", () => guardRows(ctx));
  await group("revocation", "ms", () => revocationRows(ctx));
  await group("limits", "calls", () => limitsRows(ctx));
  await group("policy-change", "ms", () => policyChangeRows(ctx));
  // Starts and stops extra keys and usage replicas; adds 800,000 ingested rows.
  await group("scaling", "events/s", () => scalingRows(ctx));
  // Last: it adds (and drops) two old months of rows.
  await group("retention", "ms", () => retentionRows(ctx));
} catch (e) {
  failed++;
  log(`setup FAILED: ${(e as Error).stack ?? e}`);
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  const jsm = await nc.jetstreamManager().catch(() => null);
  await jsm?.streams.delete(topo.stream).catch(() => {});
  await nc.close();
  await sql.end({ timeout: 5 });
  await db.drop().catch((e) => log(`could not drop ${db.name}: ${(e as Error).message}`));
  log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

console.log(markdown(rows));
if (args.has("--json")) console.log(jsonLine(rows));
process.exit(failed ? 1 : 0);
