/**
 * Where the cores go during a measurement: CPU seconds (user + system, from
 * /proc/<pid>/stat as bench/export-check.ts reads them) of each process under
 * test, of the NATS server the bench uses, of the Postgres backends serving
 * the bench's database, of the load generator (this process), and of the
 * whole machine (/proc/stat), which also counts whatever else shares it
 * ("others": busy time none of the named processes used; "iowait": time the
 * cores sat idle waiting for the disk).
 */
import { readFileSync } from "node:fs";
import type { Sql } from "postgres";

const HZ = 100;

/** CPU seconds a process has used so far (0 once it is gone). */
export function cpuS(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / HZ;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine so far (every jiffy but idle and iowait), and the iowait seconds. */
export function machineS(): { busy: number; iowait: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - f[3]! - f[4]!) / HZ, iowait: f[4]! / HZ };
}

/** The pid listening on a loopback TCP port (the NATS server of a URL), or undefined. */
export function listenerPid(port: number): number | undefined {
  const out = Bun.spawnSync(["ss", "-Htlnp", `sport = :${port}`]).stdout.toString();
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
}

/** Pids of the Postgres backends connected to the current database. */
async function backendPids(sql: Sql): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database()`;
  return rows.map((r) => r.pid);
}

/** Pids of the cluster's background processes (WAL writer, checkpointer, background writer, ...): shared by every database of the cluster. */
async function backgroundPids(sql: Sql): Promise<number[]> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname is null and pid is not null`;
  return rows.map((r) => r.pid);
}

export interface CpuWindow {
  /** Ends the window: seconds of wall time and CPU seconds per named part. */
  end(): Promise<{ wallS: number; cpu: Record<string, number> }>;
}

/**
 * Opens a window over `procs` (name → pids), the NATS server, the database's
 * backends (those alive at the start or the end of the window) and the
 * machine. Shares of shared servers are rough: another client of the same
 * NATS server or database cluster is counted in "machine" only.
 */
export async function cpuWindow(sql: Sql, procs: Record<string, number[]>, natsPort: number): Promise<CpuWindow> {
  const nats = listenerPid(natsPort);
  const pg0 = new Map((await backendPids(sql)).map((p) => [p, cpuS(p)]));
  const sum = (pids: number[]) => pids.reduce((a, p) => a + cpuS(p), 0);
  const before = Object.fromEntries(Object.entries(procs).map(([k, pids]) => [k, sum(pids)]));
  const nats0 = nats ? cpuS(nats) : 0;
  const bg = await backgroundPids(sql);
  const bg0 = sum(bg);
  const self0 = cpuS(process.pid);
  const machine0 = machineS();
  const t0 = performance.now();
  return {
    async end() {
      const wallS = (performance.now() - t0) / 1000;
      const cpu: Record<string, number> = {};
      for (const [k, pids] of Object.entries(procs)) cpu[k] = sum(pids) - before[k]!;
      cpu.nats = nats ? cpuS(nats) - nats0 : Number.NaN;
      let pg = 0;
      // A backend gone by the end reads 0: its last interval is lost, never counted negative.
      for (const pid of new Set([...pg0.keys(), ...(await backendPids(sql))])) pg += Math.max(0, cpuS(pid) - (pg0.get(pid) ?? 0));
      cpu.postgres = pg;
      cpu["pg-bg"] = sum(bg) - bg0;
      cpu.loadgen = cpuS(process.pid) - self0;
      const ours = Object.values(cpu).reduce((a, v) => a + (Number.isFinite(v) ? v : 0), 0);
      const m = machineS();
      cpu.machine = m.busy - machine0.busy;
      // Busy time of no process above: other tenants of the machine (and the kernel's own work).
      cpu.others = Math.max(0, cpu.machine - ours);
      cpu.iowait = m.iowait - machine0.iowait;
      return { wallS, cpu };
    },
  };
}

/** "usage 0.61, postgres 0.52, ..." in cores (CPU seconds per wall second). */
export function coresText(w: { wallS: number; cpu: Record<string, number> }): string {
  return Object.entries(w.cpu)
    .map(([k, v]) => `${k} ${(v / w.wallS).toFixed(2)}`)
    .join(", ");
}
