import type { ConsumerMessages, JetStreamClient, JsMsg } from "nats";
import { USAGE_CONSUMER } from "@riskinmind/contracts";
import { isDbUnavailable, type Logger, type Sql } from "@riskinmind/runtime";
import type { UsageMetrics } from "../metrics";
import { parseUsageMessage, type IngestEvent, type InvalidReason } from "./parse";
import { writeBatch, type SeqOrder } from "./writer";

export interface IngestOptions {
  stream: string;
  /** The stream's creation time (see ensureUsageStream). */
  streamCreated: string;
  batchMax: number;
  batchWaitMs: number;
}

interface Batch {
  entries: { msg: JsMsg; events: IngestEvent[] }[];
  size: number;
}

/** Messages pulled ahead of processing: the bound on what one replica holds. */
const PULL_MAX_MESSAGES = 1000;
/** Batches being written at once: one filling while one or two commit. */
const MAX_IN_FLIGHT = 2;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 5000;

/**
 * The ingest loop: pulls from the shared durable consumer, validates every
 * message, writes events in batches and acks a message only after the batch
 * holding it has committed. While Postgres is down it naks with a delay and
 * backs off; the events wait in JetStream.
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
  /** Resolves when the latest batch holds its counter rows (see SeqOrder). */
  private counterTurn: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { js: JetStreamClient; sql: Sql; log: Logger; m: UsageMetrics },
    private readonly opts: IngestOptions,
  ) {}

  /** Starts pulling; resolves once the consumer is attached. */
  async start(): Promise<void> {
    const consumer = await this.deps.js.consumers.get(this.opts.stream, USAGE_CONSUMER);
    this.messages = await consumer.consume({ max_messages: PULL_MAX_MESSAGES });
    this.done = this.run(this.messages).catch((err) => {
      this.deps.log.error({ err: (err as Error).message }, "ingest loop ended with an error");
    });
  }

  /** Stops pulling, commits and acks the batch in hand, and waits for writes in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
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
    const parsed = parseUsageMessage(msg.data, `${this.opts.streamCreated}:${seq}`);
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
    const prev = this.counterTurn;
    let release!: () => void;
    this.counterTurn = new Promise<void>((r) => (release = r));
    const order: SeqOrder = { turn: () => prev, done: release };
    const p: Promise<void> = this.commit(batch, order).finally(() => {
      release();
      this.inflight.delete(p);
      this.maybeFlush();
    });
    this.inflight.add(p);
  }

  private async commit(batch: Batch, order: SeqOrder): Promise<void> {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0 && !this.stopping) await Promise.race([Bun.sleep(wait), this.stopped]);
    const started = performance.now();
    try {
      const events = batch.entries.length === 1 ? batch.entries[0]!.events : batch.entries.flatMap((e) => e.events);
      const added = await writeBatch(this.deps.sql, events, order);
      for (const e of batch.entries) e.msg.ack();
      this.deps.m.ingested.inc(added);
      this.deps.m.batchSize.observe(batch.size);
      this.deps.m.commitSeconds.observe((performance.now() - started) / 1000);
      if (this.backoffMs > 0) this.deps.log.info("usage database reachable again; ingestion resumed");
      this.backoffMs = 0;
    } catch (err) {
      order.done();
      if (isCausedByData(err)) await this.isolate(batch);
      else this.pause(batch, err);
    }
  }

  /** Postgres is unreachable (or failing): nothing is acked, everything comes back later. */
  private pause(batch: Batch, err: unknown): void {
    this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
    this.pausedUntil = Date.now() + this.backoffMs;
    for (const e of batch.entries) e.msg.nak(this.backoffMs);
    const e = err as { code?: string; message?: string };
    this.deps.log.warn({ code: e?.code, err: e?.message, events: batch.size, retryInMs: this.backoffMs }, "usage batch not written; will retry");
  }

  /**
   * A batch that Postgres refuses for its data is written message by message,
   * so only the message that causes it is terminated and its neighbours land.
   */
  private async isolate(batch: Batch): Promise<void> {
    for (const entry of batch.entries) {
      try {
        const added = await writeBatch(this.deps.sql, entry.events);
        entry.msg.ack();
        this.deps.m.ingested.inc(added);
      } catch (err) {
        if (!isCausedByData(err)) {
          this.pause({ entries: [entry], size: entry.events.length }, err);
          continue;
        }
        this.deps.m.invalid.inc({ reason: "unstorable" }, entry.events.length);
        this.deps.log.warn({ code: (err as { code?: string }).code, events: entry.events.length, streamSeq: entry.msg.info.streamSequence }, "usage message refused by the database");
        entry.msg.term();
      }
    }
  }
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity) and 54 (too large): the rows, not the database. */
function isCausedByData(err: unknown): boolean {
  if (isDbUnavailable(err)) return false;
  const code = (err as { code?: string })?.code ?? "";
  return /^(22|23|54)/.test(code);
}
