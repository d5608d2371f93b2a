/** Process bookkeeping for the launcher tests: which processes `bun run dev`/`start` left behind, read from /proc. */
import { readdirSync, readFileSync } from "node:fs";
import type { Child } from "./procs";

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
