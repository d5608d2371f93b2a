/**
 * The HTTP rows measure with wrk: autocannon spends a whole core of its own,
 * which on a two-core machine is half of what the services under test could
 * use. So the bench installs Debian's wrk when it is missing and it runs as
 * root, and falls back to autocannon only when that fails, saying why.
 */
import { existsSync } from "node:fs";
import { WRK } from "./http-load";

export interface LoadToolChoice {
  tool: "wrk" | "autocannon";
  /** Why, when it is not simply "wrk was there": printed in the run header. */
  note?: string;
}

export interface WrkInstallDeps {
  wrkPath: string;
  isRoot: boolean;
  forced?: string;
  /** Runs a command; resolves with its exit code and the tail of its output. */
  run(cmd: string[]): Promise<{ code: number; tail: string }>;
}

async function runQuiet(cmd: string[]): Promise<{ code: number; tail: string }> {
  try {
    const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
    return { code, tail: (err || out).trim().split("\n").slice(-1)[0] ?? "" };
  } catch (e) {
    return { code: -1, tail: (e as Error).message };
  }
}

export const DEFAULT_WRK_INSTALL: WrkInstallDeps = {
  wrkPath: WRK,
  isRoot: process.getuid?.() === 0,
  forced: process.env.BENCH_HTTP_LOAD,
  run: runQuiet,
};

/** wrk if present or installable (`apt-get update` once, then `apt-get install -y wrk`), else autocannon with the reason. */
export async function ensureHttpLoadTool(deps: WrkInstallDeps = DEFAULT_WRK_INSTALL): Promise<LoadToolChoice> {
  if (deps.forced === "autocannon") return { tool: "autocannon", note: "BENCH_HTTP_LOAD=autocannon" };
  if (existsSync(deps.wrkPath)) return { tool: "wrk" };
  const fallback = (why: string): LoadToolChoice => ({ tool: "autocannon", note: `${why}; autocannon instead, which takes about a core of its own` });
  if (!deps.isRoot) return fallback("wrk is missing and only root may apt-get install it");
  for (const cmd of [
    ["apt-get", "update"],
    ["apt-get", "install", "-y", "wrk"],
  ]) {
    const r = await deps.run(cmd);
    if (r.code !== 0) return fallback(`\`${cmd.join(" ")}\` failed (exit ${r.code}: ${r.tail.slice(0, 160)})`);
  }
  if (!existsSync(deps.wrkPath)) return fallback(`apt-get installed wrk but ${deps.wrkPath} is absent`);
  return { tool: "wrk", note: "wrk was missing: installed with apt-get" };
}
