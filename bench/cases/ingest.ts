/**
 * Row group 3: usage events from JetStream publish to rows committed (end to
 * end, through the real usage service) against a raw COPY of the same rows
 * into the same table, and against a raw JetStream consume of the same
 * messages. Events are batched 1,000 to a message, as a busy publisher must.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AckPolicy, StorageType, type NatsConnection } from "nats";
import { MAX_EVENTS_PER_MESSAGE, USAGE_CONSUMER, type UsageEvent } from "@riskinmind/contracts";
import type { Ctx } from "../lib/context";
import { keyId, keyOwner } from "../lib/keys";
import { row, type Row } from "../lib/table";

const OWNERS = 100;
const enc = new TextEncoder();

/**
 * Events of real loaded keys (the usage service checks each key's owner):
 * the last OWNERS keys of the small set, away from the hot set's start.
 */
export function ingestKeys(ctx: Ctx): { keyId: string; ownerId: string }[] {
  const first = ctx.sizes.keysSmall - OWNERS;
  return Array.from({ length: OWNERS }, (_, j) => ({ keyId: keyId(ctx.tag, first + j), ownerId: keyOwner(first + j) }));
}

export function events(tag: string, n: number, keys: { keyId: string; ownerId: string }[]): UsageEvent[] {
  const now = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => ({
    id: `ing-${tag}-${i}`,
    ...keys[i % keys.length]!,
    endpoint: "/api/v1/loans/predict",
    method: "POST" as const,
    statusCode: 200,
    timestamp: now,
    durationMs: 1.25,
  }));
}

export function messages(evs: UsageEvent[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < evs.length; i += MAX_EVENTS_PER_MESSAGE) out.push(enc.encode(JSON.stringify(evs.slice(i, i + MAX_EVENTS_PER_MESSAGE))));
  return out;
}

/** All messages published at once (pipelined); resolves when every ack is in. */
export async function publishAll(nc: NatsConnection, subject: string, msgs: Uint8Array[]): Promise<void> {
  const js = nc.jetstream();
  await Promise.all(msgs.map((m) => js.publish(subject, m)));
}

export async function ingestRows(ctx: Ctx): Promise<Row[]> {
  const n = ctx.sizes.ingest;
  const keys = ingestKeys(ctx);
  const evs = events(ctx.tag, n, keys);
  const msgs = messages(evs);
  const owners = keys.map((k) => k.ownerId);

  await waitUsageIdle(ctx);
  // Earlier rows (the guard's recorded calls) may already hold rows of these owners.
  const [base] = await ctx.sql<{ n: string }[]>`select coalesce(sum(total), 0)::text as n from usage.owner_counters where owner_id = any(${owners})`;
  const before = Number(base!.n);
  // End to end: publish, then watch the owners' counters (updated in the
  // same transaction as the rows) reach n; the row count is checked after.
  const t0 = performance.now();
  await publishAll(ctx.nc, ctx.subj.usageEvents, msgs);
  const tPub = performance.now();
  const deadline = t0 + 180_000;
  for (;;) {
    const [r] = await ctx.sql<{ n: string }[]>`select coalesce(sum(total), 0)::text as n from usage.owner_counters where owner_id = any(${owners})`;
    if (Number(r!.n) - before >= n) break;
    if (performance.now() > deadline) throw new Error(`ingest: only ${Number(r!.n) - before} of ${n} events committed after 180 s`);
    await Bun.sleep(10);
  }
  const e2e = (n / (performance.now() - t0)) * 1000;
  const [cnt] = await ctx.sql<{ n: string }[]>`select count(*)::text as n from usage.events where owner_id = any(${owners})`;
  if (Number(cnt!.n) !== before + n) throw new Error(`ingest: ${Number(cnt!.n) - before} rows for ${n} events`);
  ctx.log(`ingest e2e: ${e2e.toFixed(0)} events/s (publish of ${msgs.length} messages took ${(tPub - t0).toFixed(0)} ms)`);

  const copy = await rawCopy(ctx, evs);
  const consume = await rawConsume(ctx, msgs);
  ctx.log(`ingest raw COPY ${copy.toFixed(0)} rows/s, raw JetStream consume ${consume.toFixed(0)} events/s`);
  return [
    row(`ingest: JetStream publish → rows committed, ${n.toLocaleString("en-US")} events in ${msgs.length} messages, vs raw COPY`, e2e, "events/s", copy, { on: "ratio", op: ">=", limit: 0.5 }),
    row(`ingest: end to end vs raw JetStream consume (fetch, parse, ack) of the same messages`, e2e, "events/s", consume),
    row(`ingest: publisher, ${MAX_EVENTS_PER_MESSAGE} events a message, pipelined`, (n / (tPub - t0)) * 1000, "events/s"),
  ];
}

/** Waits until the usage service has nothing pending, so earlier rows' events do not count against this one. */
export async function waitUsageIdle(ctx: Ctx): Promise<void> {
  const jsm = await ctx.nc.jetstreamManager();
  const deadline = performance.now() + 120_000;
  for (;;) {
    const info = await jsm.consumers.info(ctx.topo.stream, USAGE_CONSUMER);
    if (info.num_pending === 0 && info.num_ack_pending === 0) return;
    if (performance.now() > deadline) throw new Error(`usage consumer still busy: ${info.num_pending} pending`);
    await Bun.sleep(50);
  }
}

/** One COPY stream of the same rows into usage.events (owners of its own); rows/s of the COPY alone. */
async function rawCopy(ctx: Ctx, evs: UsageEvent[]): Promise<number> {
  const chunks: string[] = [];
  const perOwner = new Map<string, number>();
  let text = "";
  evs.forEach((e, i) => {
    const owner = `cpy_${e.ownerId}`;
    const seq = (perOwner.get(owner) ?? 0) + 1;
    perOwner.set(owner, seq);
    text += `${owner}\tlive\t${seq}\tc:${ctx.tag}:${i}\t${e.keyId}\t${e.endpoint}\t${e.method}\t${e.statusCode}\t${e.timestamp}\t${e.durationMs}\n`;
    if (text.length > 256_000) {
      chunks.push(text);
      text = "";
    }
  });
  if (text) chunks.push(text);
  const t = performance.now();
  const w = await ctx.sql`copy usage.events (owner_id, mode, seq, event_key, key_id, endpoint, method, status_code, ts, duration_ms) from stdin`.writable();
  await pipeline(Readable.from(chunks), w);
  return (evs.length / (performance.now() - t)) * 1000;
}

/** The same messages through a stream of their own, pulled, parsed and acked one by one; events/s. */
async function rawConsume(ctx: Ctx, msgs: Uint8Array[]): Promise<number> {
  const jsm = await ctx.nc.jetstreamManager();
  const stream = `${ctx.topo.stream}_RAW`;
  const subject = `${ctx.topo.prefix}bench.raw`;
  await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.File });
  try {
    await publishAll(ctx.nc, subject, msgs);
    await jsm.consumers.add(stream, { durable_name: "raw", ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 });
    const consumer = await ctx.nc.jetstream().consumers.get(stream, "raw");
    let events = 0;
    let seen = 0;
    const t = performance.now();
    while (seen < msgs.length) {
      if (performance.now() - t > 60_000) throw new Error(`raw consume: ${seen} of ${msgs.length} messages after 60 s`);
      // Ask for no more than remain: a fetch waits for its full count or its expiry.
      const batch = await consumer.fetch({ max_messages: Math.min(100, msgs.length - seen), expires: 2000 });
      for await (const m of batch) {
        events += (JSON.parse(new TextDecoder().decode(m.data)) as unknown[]).length;
        m.ack();
        seen++;
      }
    }
    return (events / (performance.now() - t)) * 1000;
  } finally {
    await jsm.streams.delete(stream).catch(() => {});
  }
}
