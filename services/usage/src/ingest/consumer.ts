import type { ConsumerMessages, JetStreamClient, JsMsg, NatsConnection } from "nats";
import { USAGE_CONSUMER } from "@riskinmind/contracts";
import { isDbUnavailable, type Logger, type Sql, errFields } from "@riskinmind/runtime";
import type { UsageMetrics } from "../metrics";
import { isNoPartition } from "../storage/partitions";
import { KeysUnavailable, type OwnerResolver } from "./owners";
import { parseUsageMessage, type IngestEvent, type InvalidReason } from "./parse";
import { writeBatch, type SeqOrder } from "./writer";

export interface IngestOptions {
  stream: string;
  batchMax: number;
  batchWaitMs: number;
  /**
   * Owner lanes (INGEST_LANES): a batch is written as this many transactions
   * at once, each holding the events of the owners that hash to its lane.
   * Lanes share no counter or rollup row, so their transactions never wait
   * on each other, where one transaction per batch kept Postgres on one core.
   */
  lanes: number;
}

interface Entry {
  msg: JsMsg;
  events: IngestEvent[];
}

interface Batch {
  entries: Entry[];
  size: number;
}

/** Messages pulled ahead of processing: the bound on what one replica holds. */
const PULL_MAX_MESSAGES = 1000;
/**
 * How long one pull request lives (nats.js default 30 s; its idle heartbeat
 * is half of it). On a cluster, a pull waiting at a consumer leader that dies
 * is lost with it: the client notices only after two missed heartbeats and
 * pulls again. 5 s turns a ~30 s stall after a node failure into ≤ 5 s, for
 * one small request per replica every 5 s when idle.
 */
const PULL_EXPIRES_MS = 5_000;
/** Batches being written at once: one filling while one or two commit. */
const MAX_IN_FLIGHT = 2;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 5000;

/**
 * The ingest loop: pulls from the shared durable consumer, validates every
 * message, writes events in batches and acks a message only after the batch
 * holding it has committed. While Postgres is down it naks with a delay and
 * backs off; the events wait in JetStream. Every event is attributed by the
 * system (see attribute) and a batch that fails for any other reason than an
 * unreachable database is bisected until the events at fault are found.
 */
export class Ingestor {
  private messages: ConsumerMessages | undefined;
  private batch: Batch = { entries: [], size: 0 };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private due = false;
  private readonly inflight = new Set<Promise<void>>();
  private backoffMs = 0;
  private pausedUntil = 0;
  private stopping = false;
  private wake: () => void = () => {};
  private readonly stopped = new Promise<void>((r) => (this.wake = r));
  private done: Promise<void> | undefined;
  /** Per lane: resolves when the latest batch's transaction in that lane holds its counter rows (see SeqOrder). */
  private readonly counterTurns: Promise<void>[];

  constructor(
    private readonly deps: {
      js: JetStreamClient;
      nc?: NatsConnection;
      sql: Sql;
      log: Logger;
      m: UsageMetrics;
      owners: OwnerResolver;
      /** An insert found no partition for its rows: partitions are to be ensured (the batch waits meanwhile). */
      onNoPartition?: () => void;
    },
    private readonly opts: IngestOptions,
  ) {
    this.counterTurns = Array.from({ length: Math.max(1, opts.lanes) }, () => Promise.resolve());
  }

  /** Starts pulling; resolves once the consumer is attached. */
  async start(): Promise<void> {
    const consumer = await this.deps.js.consumers.get(this.opts.stream, USAGE_CONSUMER);
    this.messages = await consumer.consume({ max_messages: PULL_MAX_MESSAGES, expires: PULL_EXPIRES_MS });
    this.done = this.run(this.messages).catch((err) => {
      this.deps.log.error({ ...errFields(err) }, "ingest loop ended with an error");
    });
  }

  /** Stops pulling, commits and acks the batch in hand, and waits for writes in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    // A round trip first: messages the server sent before it are then in our
    // hands (the protocol is ordered), so they join the last batch instead of
    // waiting for redelivery after the ack wait.
    await this.deps.nc?.flush().catch(() => {});
    // Ends the iterator after the messages already received, which are still processed.
    this.messages?.stop();
    await this.done;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      // Backpressure: while writes are saturated (or paused), stop taking messages.
      while (this.batch.size >= this.opts.batchMax && this.inflight.size >= MAX_IN_FLIGHT) {
        await Promise.race(this.inflight);
      }
      this.accept(msg);
      this.maybeFlush();
    }
    if (this.timer) clearTimeout(this.timer);
    this.due = true;
    while (this.batch.size > 0 || this.inflight.size > 0) {
      this.maybeFlush();
      if (this.inflight.size > 0) await Promise.race(this.inflight);
    }
  }

  private accept(msg: JsMsg): void {
    const seq = msg.info.streamSequence;
    const parsed = parseUsageMessage(msg.data);
    if (parsed.messageError) {
      this.deps.m.invalid.inc({ reason: parsed.messageError });
      this.deps.log.warn({ reason: parsed.messageError, bytes: msg.data.length, streamSeq: seq }, "usage message refused");
      msg.term();
      return;
    }
    const refused = Object.entries(parsed.refused) as [InvalidReason, number][];
    if (refused.length > 0) {
      for (const [reason, n] of refused) this.deps.m.invalid.inc({ reason }, n);
      // One line per message, counts only: event contents are the caller's data.
      this.deps.log.warn({ refused: parsed.refused, accepted: parsed.events.length, bytes: msg.data.length, streamSeq: seq }, "usage events refused");
    }
    if (parsed.events.length === 0) {
      msg.term();
      return;
    }
    if (this.batch.size === 0) {
      this.due = false;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.maybeFlush();
      }, this.opts.batchWaitMs);
    }
    this.batch.entries.push({ msg, events: parsed.events });
    this.batch.size += parsed.events.length;
  }

  private maybeFlush(): void {
    if (this.batch.size === 0 || this.inflight.size >= MAX_IN_FLIGHT) return;
    if (!this.due && this.batch.size < this.opts.batchMax) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.batch;
    this.batch = { entries: [], size: 0 };
    // One turn per lane, taken now: the batches of a lane bump their owners'
    // counters in the order they were formed, whatever order they commit in.
    const orders = this.counterTurns.map((prev, lane): SeqOrder & { release(): void } => {
      let release!: () => void;
      this.counterTurns[lane] = new Promise<void>((r) => (release = r));
      return { turn: () => prev, done: release, release };
    });
    const p: Promise<void> = this.commit(batch, orders).finally(() => {
      for (const o of orders) o.release();
      this.inflight.delete(p);
      this.maybeFlush();
    });
    this.inflight.add(p);
  }

  private async commit(batch: Batch, orders: SeqOrder[]): Promise<void> {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0 && !this.stopping) await Promise.race([Bun.sleep(wait), this.stopped]);
    const started = performance.now();
    let entries: Entry[];
    try {
      entries = await this.attribute(batch);
    } catch (err) {
      // The keys service cannot say who owns these keys: like a database
      // outage, nothing is refused and nothing acked; the events come back.
      for (const o of orders) o.done();
      this.pause(batch, err);
      return;
    }
    const size = entries.reduce((n, e) => n + e.events.length, 0);
    try {
      const lanes = byLane(entries, orders.length);
      // Every lane's transaction settles before anything is acked or retried:
      // a message is acked only when all of its events are committed. When one
      // lane fails, the others' rows are kept, and a redelivery skips them by
      // their event keys (writeBatch's look-up), so nothing is lost or doubled.
      const results = await Promise.allSettled(
        lanes.map((events, lane) => {
          const order = orders[lane]!;
          if (events.length > 0) return writeBatch(this.deps.sql, events, order);
          // Nothing in this lane: pass the turn on only once the batch before has bumped its counters.
          return order.turn().then(() => {
            order.done();
            return 0;
          });
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      const added = results.reduce((n, r) => n + (r as PromiseFulfilledResult<number>).value, 0);
      for (const e of entries) e.msg.ack();
      this.deps.m.ingested.inc(added);
      this.deps.m.batchSize.observe(size);
      this.deps.m.commitSeconds.observe((performance.now() - started) / 1000);
      if (this.backoffMs > 0) this.deps.log.info("usage ingestion resumed");
      this.backoffMs = 0;
    } catch (err) {
      for (const o of orders) o.done();
      if (isDbNotNow(err)) this.pause({ entries, size }, err);
      else await this.isolate(entries, err);
    }
  }

  /**
   * Usage rows are attributed by the system, not by the publisher: each
   * event's keyId is resolved to its real owner and mode (keys.lookup,
   * cached); the event is filed under that mode whatever it says. An
   * unknown key or an ownerId that is not the key's owner is refused and
   * counted; a message left with no event is terminated. Returns the entries
   * still to write. Throws when the keys service cannot answer.
   */
  private async attribute(batch: Batch): Promise<Entry[]> {
    const ids = new Set<string>();
    for (const e of batch.entries) for (const ev of e.events) ids.add(ev.keyId);
    const owners = await this.deps.owners.resolve(ids);
    let unknown = 0;
    let mismatch = 0;
    const kept: Entry[] = [];
    for (const entry of batch.entries) {
      const events = entry.events.filter((ev) => {
        const key = owners.get(ev.keyId);
        if (key == null) unknown++;
        else if (key.ownerId !== ev.ownerId) mismatch++;
        else {
          // Filed under the key's real mode: a forged `mode` moves nothing.
          ev.mode = key.mode;
          return true;
        }
        return false;
      });
      if (events.length === 0) entry.msg.term();
      else kept.push(events.length === entry.events.length ? entry : { msg: entry.msg, events });
    }
    if (unknown + mismatch > 0) {
      if (unknown > 0) this.deps.m.invalid.inc({ reason: "unknown_key" }, unknown);
      if (mismatch > 0) this.deps.m.invalid.inc({ reason: "owner_mismatch" }, mismatch);
      // Counts only: which owner a forger named is not ours to log.
      this.deps.log.warn({ refused: { unknown_key: unknown, owner_mismatch: mismatch }, messages: batch.entries.length }, "usage events not attributable to their key");
    }
    return kept;
  }

  /** Postgres (or the keys service) is unreachable: nothing is acked, everything comes back later. */
  private pause(batch: Batch, err: unknown): void {
    if (isNoPartition(err)) this.deps.onNoPartition?.();
    this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
    this.pausedUntil = Date.now() + this.backoffMs;
    for (const e of batch.entries) e.msg.nak(this.backoffMs);
    const what = err instanceof KeysUnavailable ? "key owners unknown" : "not written";
    this.deps.log.warn({ ...errFields(err), events: batch.size, retryInMs: this.backoffMs }, `usage batch ${what}; will retry`);
  }

  /**
   * A batch that failed for any reason but an unreachable database (a row
   * Postgres refuses, a bug of ours tripped by one event) is bisected: halves
   * are written on their own until the events at fault stand alone. Those are
   * dropped and counted; every other event commits. A message is acked when
   * all its surviving events are committed, terminated when none survive, and
   * nak'ed when the database went away meanwhile (committed halves are then
   * skipped on redelivery by their event keys).
   */
  private async isolate(entries: Entry[], first: unknown): Promise<void> {
    const flat: { entry: number; ev: IngestEvent }[] = [];
    entries.forEach((e, entry) => {
      for (const ev of e.events) flat.push({ entry, ev });
    });
    const stored = new Array<number>(entries.length).fill(0);
    const dropped = new Array<number>(entries.length).fill(0);
    const retry = new Set<number>();
    let unreachable: unknown;
    const codes = new Set<string>([errCode(first)]);

    const write = async (part: typeof flat, known?: unknown): Promise<void> => {
      if (unreachable !== undefined) {
        for (const p of part) retry.add(p.entry);
        return;
      }
      let err = known;
      if (err === undefined) {
        try {
          const added = await writeBatch(
            this.deps.sql,
            part.map((p) => p.ev),
          );
          this.deps.m.ingested.inc(added);
          for (const p of part) stored[p.entry]!++;
          return;
        } catch (e) {
          err = e;
        }
      }
      if (isDbNotNow(err)) {
        unreachable = err;
        for (const p of part) retry.add(p.entry);
        return;
      }
      codes.add(errCode(err));
      if (part.length === 1) {
        dropped[part[0]!.entry]!++;
        return;
      }
      const mid = part.length >> 1;
      await write(part.slice(0, mid));
      await write(part.slice(mid));
    };
    await write(flat, first);

    const unstorable = dropped.reduce((a, b) => a + b, 0);
    if (unstorable > 0) {
      this.deps.m.invalid.inc({ reason: "unstorable" }, unstorable);
      // Codes and counts only: the refused rows are the caller's data.
      this.deps.log.warn({ codes: [...codes], unstorable, stored: stored.reduce((a, b) => a + b, 0) }, "usage events refused by the database");
    }
    entries.forEach((e, i) => {
      if (retry.has(i)) return;
      if (stored[i]! > 0) e.msg.ack();
      else e.msg.term();
    });
    const waiting = entries.filter((_, i) => retry.has(i));
    if (waiting.length > 0) this.pause({ entries: waiting, size: waiting.reduce((n, e) => n + e.events.length, 0) }, unreachable);
  }
}

/**
 * The database cannot take any batch right now, whatever its rows: it is
 * unreachable, or out of resources (53: disk full, too many connections),
 * shutting down or cancelling (57), failing inside (58, XX), read-only after
 * a failover (25006), a conflict that outlived writeBatch's retries (40),
 * or no partition yet for a row's month (made on the spot, see isNoPartition).
 * Those batches wait; splitting them would drop good events as unstorable.
 */
function isDbNotNow(err: unknown): boolean {
  if (isDbUnavailable(err) || isNoPartition(err)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(08|40|53|57|58|XX)|^25006$/.test(code);
}

/** A short label for an error: its SQLSTATE, or its class name for our own. */
function errCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | null;
  return typeof e?.code === "string" ? e.code : typeof e?.name === "string" ? e.name : "unknown";
}

/**
 * A batch's events split by owner into `lanes` lists (FNV-1a of the owner id):
 * an owner always lands in the same lane, so its events keep their order and
 * its counter and rollup rows are touched by one lane only.
 */
function byLane(entries: Entry[], lanes: number): IngestEvent[][] {
  const out = Array.from({ length: lanes }, () => [] as IngestEvent[]);
  if (lanes === 1) {
    for (const e of entries) for (const ev of e.events) out[0]!.push(ev);
    return out;
  }
  const laneOf = new Map<string, number>();
  for (const e of entries) {
    for (const ev of e.events) {
      let lane = laneOf.get(ev.ownerId);
      if (lane === undefined) {
        let h = 0x811c9dc5;
        for (let i = 0; i < ev.ownerId.length; i++) h = Math.imul(h ^ ev.ownerId.charCodeAt(i), 0x01000193);
        lane = (h >>> 0) % lanes;
        laneOf.set(ev.ownerId, lane);
      }
      out[lane]!.push(ev);
    }
  }
  return out;
}
