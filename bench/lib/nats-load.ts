/**
 * Closed-loop NATS requester: K requests in flight, each loop sends its next
 * request as soon as its reply arrives. One process, as a real caller would
 * be; its own CPU share is reported because it shares the cores with the
 * service under test.
 */
import type { NatsConnection } from "nats";
import { summarize, type Summary } from "./stats";

export interface NatsLoadResult extends Summary {
  /** Replies per second over the measured window. */
  rps: number;
  errors: number;
  /** Requester CPU time / wall time (1.0 = one core busy). */
  cpuShare: number;
}

export interface NatsLoadOptions {
  subject: string;
  payloads: Uint8Array[];
  inFlight: number;
  /** Measured window; ignored with `once`. */
  durationMs?: number;
  /** Unmeasured warm-up before the window. */
  warmupMs?: number;
  /** Send each payload exactly once (cold keys), then stop. */
  once?: boolean;
  /** Checks a reply; false counts as an error. Called on every 32nd reply to keep the requester cheap. */
  check?: (reply: Uint8Array) => boolean;
  timeoutMs?: number;
}

export async function natsLoad(nc: NatsConnection, o: NatsLoadOptions): Promise<NatsLoadResult> {
  const timeout = o.timeoutMs ?? 5000;
  if (o.warmupMs && !o.once) await run(nc, o, o.warmupMs, timeout);
  return run(nc, o, o.durationMs ?? 3000, timeout);
}

async function run(nc: NatsConnection, o: NatsLoadOptions, durationMs: number, timeout: number): Promise<NatsLoadResult> {
  const n = o.payloads.length;
  const cap = o.once ? n : 4_000_000;
  const lat = new Float64Array(cap);
  let count = 0;
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  const cpu0 = process.cpuUsage();
  const loop = async () => {
    for (;;) {
      if (o.once ? next >= n : performance.now() >= deadline) return;
      const i = next++;
      const t = performance.now();
      try {
        const m = await nc.request(o.subject, o.payloads[i % n]!, { timeout });
        const dt = performance.now() - t;
        if (count < cap) lat[count] = dt;
        count++;
        if (o.check && (i & 31) === 0 && !o.check(m.data)) errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.inFlight }, loop));
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const s = summarize(lat.subarray(0, Math.min(count, cap)));
  return { ...s, rps: (count / wall) * 1000, errors, cpuShare: (cpu.user + cpu.system) / 1000 / wall };
}
