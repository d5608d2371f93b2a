/** Process bookkeeping for the devx tests (which processes a launcher left behind), and the dev walkthrough as printed. */
import { expect } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import type { Child } from "../support/harness";

export interface ProcRef {
  pid: number;
  /** Start time in clock ticks (field 22 of /proc/pid/stat), so a reused pid is not mistaken for ours. */
  start: string;
  cmd: string;
}

function stat(pid: number): { ppid: number; state: string; start: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0]!, ppid: Number(rest[1]), start: rest[19]! };
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
}

const pids = () =>
  readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);

/** Every live descendant of `root` (children, grandchildren, ...). */
export function descendants(root: number): ProcRef[] {
  const all = pids()
    .map((pid) => ({ pid, st: stat(pid) }))
    .filter((p) => p.st && p.st.state !== "Z");
  const out: ProcRef[] = [];
  const frontier = [root];
  while (frontier.length) {
    const parent = frontier.pop()!;
    for (const p of all) {
      if (p.st!.ppid === parent) {
        out.push({ pid: p.pid, start: p.st!.start, cmd: cmdline(p.pid) });
        frontier.push(p.pid);
      }
    }
  }
  return out;
}

/** Live processes whose command line mentions `needle` (e.g. a data directory). */
export function processesMentioning(needle: string): ProcRef[] {
  return pids()
    .filter((pid) => pid !== process.pid)
    .map((pid) => ({ pid, st: stat(pid), cmd: cmdline(pid) }))
    .filter((p) => p.st && p.st.state !== "Z" && p.cmd.includes(needle))
    .map((p) => ({ pid: p.pid, start: p.st!.start, cmd: p.cmd }));
}

/** Those of `procs` still running (same pid and start time, not a zombie). */
export function stillAlive(procs: ProcRef[]): ProcRef[] {
  return procs.filter((p) => {
    const s = stat(p.pid);
    return s !== undefined && s.start === p.start && s.state !== "Z";
  });
}

/** Runs one printed walkthrough line with bash, as a user pasting it would. */
export async function runLine(line: string, env: Record<string, string>): Promise<string> {
  const p = Bun.spawn(["bash", "-c", line], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(code).toBe(0);
  return out;
}

/** The token and the three curl lines of the walkthrough `bun run dev` printed. */
export function walkthrough(output: string) {
  const lines = output.split("\n");
  const token = lines.find((l) => l.startsWith("export TOKEN="))?.slice("export TOKEN=".length);
  const curl = (part: string) => lines.find((l) => l.startsWith("curl ") && l.includes(part));
  return { token, generate: curl("/api/v1/keys/generate"), predict: curl("/api/v1/loans/predict"), logs: curl("/api/v1/keys/logs") };
}

/** Stops dev stacks a failed test left up: SIGTERM lets dev stop its children (SIGKILL would orphan them), SIGKILL after 20 s. */
export async function stopDevStacks(running: Child[]): Promise<void> {
  for (const c of running) {
    if (c.proc.exitCode !== null) continue;
    c.proc.kill("SIGTERM");
    const timer = setTimeout(() => c.proc.kill("SIGKILL"), 20_000);
    await c.proc.exited;
    clearTimeout(timer);
  }
}
