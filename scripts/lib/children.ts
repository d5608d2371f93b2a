/**
 * Child processes with prefixed output and an orderly stop: SIGTERM, then
 * SIGKILL after a grace period. Used by `bun run dev` and `bun run start`.
 */
import type { Subprocess } from "bun";

export interface ManagedChild {
  name: string;
  proc: Subprocess;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<number>;
}

export interface SpawnOptions {
  name: string;
  cmd: string[];
  env: Record<string, string | undefined>;
  cwd?: string;
  /** "prefixed": each line as `[name] line` (dev); "raw": untouched, so `start` stays pure JSON lines; "silent": drained, not shown. */
  output: "prefixed" | "raw" | "silent";
  /** Called with each output line, whatever `output` is. */
  onLine?: (line: string) => void;
}

const COLORS = [36, 35, 33, 32, 34, 31];
let colorIndex = 0;

/** Spawns `cmd`; its stdout/stderr go to ours, line by line. */
export function spawnManaged(opts: SpawnOptions): ManagedChild {
  const color = COLORS[colorIndex++ % COLORS.length];
  const tty = process.stdout.isTTY;
  const tag = tty ? `\x1b[${color}m[${opts.name}]\x1b[0m ` : `[${opts.name}] `;
  const proc = Bun.spawn(opts.cmd, {
    cwd: opts.cwd,
    env: opts.env,
    stdin: "ignore",
    // Own process group: a Ctrl-C in the terminal reaches only us, and we stop the children in order.
    detached: true,
    stdout: "pipe",
    stderr: "pipe",
  });
  const pump = async (stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream) => {
    const dec = new TextDecoder();
    let buf = "";
    const emit = (line: string) => {
      opts.onLine?.(line);
      if (opts.output === "prefixed") out.write(`${tag}${line}\n`);
      else if (opts.output === "raw") out.write(`${line}\n`);
    };
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        emit(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
    if (buf) emit(buf);
  };
  const pumps = Promise.all([pump(proc.stdout as ReadableStream<Uint8Array>, process.stdout), pump(proc.stderr as ReadableStream<Uint8Array>, process.stderr)]).catch(() => {});
  // Exit is reported only after the last output line is written.
  const exited = proc.exited.then(async (code) => {
    await pumps;
    return code;
  });
  return {
    name: opts.name,
    proc,
    exited,
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Polls `url` until it answers 200, the child dies, or `timeoutMs` passes. */
export async function waitHealthy(url: string, child: ManagedChild | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void child?.exited.then(() => (dead = true));
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${child!.name} exited before ${url} answered 200`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}
