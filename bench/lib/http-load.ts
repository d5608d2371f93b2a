/**
 * HTTP load: wrk (Debian) when present (the bench installs it first, see
 * wrk-install.ts), autocannon (npm) otherwise, always as
 * a child process so its CPU is its own and measurable (rusage of the child:
 * user+system time over wall time). BENCH_HTTP_LOAD=autocannon forces the
 * fallback.
 */
import { existsSync } from "node:fs";

export interface HttpLoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Responses that were not 2xx, plus socket errors and timeouts. */
  errors: number;
  requests: number;
  tool: "wrk" | "autocannon";
  /** Load generator CPU time / wall time (1.0 = one core busy). */
  cpuShare: number;
}

export interface HttpLoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections?: number;
  durationS?: number;
}

export const WRK = "/usr/bin/wrk";

export function httpLoadTool(): "wrk" | "autocannon" {
  if (process.env.BENCH_HTTP_LOAD === "autocannon") return "autocannon";
  return existsSync(WRK) ? "wrk" : "autocannon";
}

export async function httpLoad(o: HttpLoadOptions): Promise<HttpLoadResult> {
  return httpLoadTool() === "wrk" ? wrk(o) : autocannon(o);
}

async function spawnTimed(cmd: string[]): Promise<{ out: string; cpuShare: number }> {
  const t = performance.now();
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const code = await p.exited;
  const wall = performance.now() - t;
  if (code !== 0) throw new Error(`${cmd[0]} exited ${code}: ${err.slice(0, 500)}`);
  const cpu = p.resourceUsage()?.cpuTime.total ?? 0n;
  return { out, cpuShare: Number(cpu) / 1000 / wall };
}

function ms(v: string, unit: string): number {
  const x = Number(v);
  return unit === "us" ? x / 1000 : unit === "s" ? x * 1000 : x;
}

async function wrk(o: HttpLoadOptions): Promise<HttpLoadResult> {
  const args = [WRK, "-t2", `-c${o.connections ?? 64}`, `-d${Math.max(1, Math.round(o.durationS ?? 5))}s`, "--latency", "--timeout", "5s"];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push("-H", `${k}: ${v}`);
  args.push(o.url);
  const { out, cpuShare } = await spawnTimed(args);
  const pick = (re: RegExp) => out.match(re);
  const p50 = pick(/50%\s+([\d.]+)(us|ms|s)/);
  const p99 = pick(/99%\s+([\d.]+)(us|ms|s)/);
  const rps = pick(/Requests\/sec:\s+([\d.]+)/);
  const total = pick(/(\d+) requests in/);
  const non2xx = Number(pick(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0);
  const sockErr = pick(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const sock = sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  if (!rps || !p50 || !p99) throw new Error(`could not read wrk output:\n${out}`);
  return {
    rps: Number(rps[1]),
    p50: ms(p50[1]!, p50[2]!),
    p99: ms(p99[1]!, p99[2]!),
    errors: non2xx + sock,
    requests: Number(total?.[1] ?? 0),
    tool: "wrk",
    cpuShare,
  };
}

async function autocannon(o: HttpLoadOptions): Promise<HttpLoadResult> {
  const bin = `${import.meta.dir}/../../node_modules/autocannon/autocannon.js`;
  const args = ["bun", bin, "--json", "-c", String(o.connections ?? 64), "-d", String(Math.max(1, Math.round(o.durationS ?? 5)))];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push("-H", `${k}=${v}`);
  args.push(o.url);
  const { out, cpuShare } = await spawnTimed(args);
  const r = JSON.parse(out.slice(out.indexOf("{"))) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
    requests: r.requests.total,
    tool: "autocannon",
    cpuShare,
  };
}
