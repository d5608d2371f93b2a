import type { JetStreamClient, NatsConnection } from "nats";
import { MAX_EVENTS_PER_MESSAGE, subjects, type Topology, type UsageEvent } from "@riskinmind/contracts";
import type { GuardLogger } from "./types";

export interface RecorderOptions {
  flushIntervalMs: number;
  flushMaxEvents: number;
  bufferMax: number;
  /** Publishes awaiting their ack at once; more hide the round trip, fewer bound memory. */
  maxInFlight?: number;
  /** How long one publish may wait for JetStream's ack before it counts as failed. */
  publishTimeoutMs?: number;
}

interface Batch {
  /** JetStream Nats-Msg-Id: a retried publish that did land is dropped by the stream's duplicate window. */
  readonly id: string;
  readonly events: UsageEvent[];
  /** Once published (even if it failed), a batch's id is bound to its content and it takes no new events. */
  attempted: boolean;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

/**
 * Usage events on their way to JetStream. `record` only pushes onto an array:
 * the request path never waits for NATS. Events leave in batches (every
 * `flushIntervalMs` or `flushMaxEvents`, whichever first), several publishes
 * in flight, because one JetStream publish costs ~55 µs of CPU and a batch of
 * 200 costs about the same as one event.
 *
 * While NATS or the stream is unreachable, batches wait in a bounded backlog
 * and are retried with exponential backoff; when the backlog is full the
 * oldest events are dropped (counted), never the process's memory.
 */
export class UsageRecorder {
  private readonly js: JetStreamClient;
  private readonly subject: string;
  private readonly maxEvents: number;
  private readonly maxInFlight: number;
  private readonly publishTimeoutMs: number;
  private current: UsageEvent[] = [];
  private readonly backlog: Batch[] = [];
  private backlogEvents = 0;
  private inFlight = 0;
  private inFlightEvents = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private backoffMs = BACKOFF_MIN_MS;
  private backoffUntil = 0;
  private disconnected = false;
  private dropping = false;
  private failing = false;
  private closing = false;
  private readonly status: AsyncIterable<unknown> & { stop?: () => void };
  readonly counters = { recorded: 0, published: 0, publishedMessages: 0, duplicateMessages: 0, dropped: 0, failedPublishes: 0 };

  constructor(
    nc: NatsConnection,
    topology: Topology,
    private readonly opts: RecorderOptions,
    private readonly log?: GuardLogger,
  ) {
    this.js = nc.jetstream();
    this.subject = subjects(topology).usageEvents;
    this.maxEvents = Math.max(1, Math.min(opts.flushMaxEvents, MAX_EVENTS_PER_MESSAGE));
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 2_000;
    // While disconnected, nats.js would queue our publishes in its own unbounded
    // reconnect buffer; holding them in our bounded backlog instead keeps the bound honest.
    const status = nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
    this.status = status;
    (async () => {
      for await (const s of status) {
        if (s.type === "disconnect") this.disconnected = true;
        else if (s.type === "reconnect") {
          this.disconnected = false;
          this.backoffUntil = 0;
          this.backoffMs = BACKOFF_MIN_MS;
          this.pump();
        }
      }
    })().catch(() => {});
  }

  /** Queues one event; O(1), never throws, never waits. */
  record(event: UsageEvent): void {
    this.counters.recorded++;
    this.current.push(event);
    if (this.current.length >= this.maxEvents) {
      this.seal();
      this.pump();
    } else if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(this.onFlushTimer, this.opts.flushIntervalMs);
    }
    if (this.current.length + this.backlogEvents > this.opts.bufferMax) this.enforceBound();
  }

  /** Publishes what is queued, waiting at most `timeoutMs`; what is left after that is dropped (and counted). */
  async close(timeoutMs = 5_000): Promise<void> {
    this.closing = true;
    this.clearFlushTimer();
    this.seal();
    const deadline = Date.now() + timeoutMs;
    this.backoffUntil = 0;
    this.pump();
    while ((this.backlog.length > 0 || this.inFlight > 0) && Date.now() < deadline) {
      await Bun.sleep(5);
      if (Date.now() >= this.backoffUntil) this.pump();
    }
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.status.stop?.();
    const left = this.backlogEvents + this.current.length;
    if (left > 0) {
      this.counters.dropped += left;
      this.log?.error({ events: left }, "guard: usage events not published before shutdown");
    }
  }

  stats() {
    return {
      ...this.counters,
      queued: this.current.length,
      buffered: this.backlogEvents,
      inFlightMessages: this.inFlight,
      inFlightEvents: this.inFlightEvents,
    };
  }

  private readonly onFlushTimer = (): void => {
    this.flushTimer = undefined;
    this.seal();
    this.pump();
  };

  private clearFlushTimer(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** Moves the current events into the backlog, topping up a not-yet-sent batch first. */
  private seal(): void {
    if (this.current.length === 0) return;
    this.clearFlushTimer();
    let events = this.current;
    this.current = [];
    const last = this.backlog[this.backlog.length - 1];
    if (last !== undefined && !last.attempted && last.events.length < this.maxEvents) {
      const room = this.maxEvents - last.events.length;
      for (let i = 0; i < events.length && i < room; i++) last.events.push(events[i]!);
      this.backlogEvents += Math.min(room, events.length);
      events = events.length > room ? events.slice(room) : [];
    }
    for (let i = 0; i < events.length; i += this.maxEvents) {
      const chunk = events.length <= this.maxEvents ? events : events.slice(i, i + this.maxEvents);
      this.backlog.push({ id: Bun.randomUUIDv7(), events: chunk, attempted: false });
      this.backlogEvents += chunk.length;
    }
  }

  private pump(): void {
    if (this.disconnected && !this.closing) return;
    const now = Date.now();
    if (now < this.backoffUntil) {
      this.scheduleRetry();
      return;
    }
    while (this.inFlight < this.maxInFlight && this.backlog.length > 0) {
      const batch = this.backlog.shift()!;
      this.backlogEvents -= batch.events.length;
      this.send(batch);
    }
  }

  private send(batch: Batch): void {
    batch.attempted = true;
    this.inFlight++;
    this.inFlightEvents += batch.events.length;
    const n = batch.events.length;
    this.js.publish(this.subject, JSON.stringify(batch.events), { msgID: batch.id, timeout: this.publishTimeoutMs }).then(
      (ack) => {
        this.inFlight--;
        this.inFlightEvents -= n;
        this.counters.published += n;
        this.counters.publishedMessages++;
        if (ack.duplicate) this.counters.duplicateMessages++;
        this.backoffMs = BACKOFF_MIN_MS;
        if (this.failing) this.log?.warn({ buffered: this.backlogEvents }, "guard: usage publishing recovered");
        this.failing = false;
        this.dropping = false;
        this.pump();
      },
      (err: unknown) => {
        this.inFlight--;
        this.inFlightEvents -= n;
        this.counters.failedPublishes++;
        // Back at the front: order is kept and the same msgID is reused on retry.
        this.backlog.unshift(batch);
        this.backlogEvents += n;
        if (!this.failing) {
          this.failing = true;
          this.log?.warn({ err: { name: (err as Error)?.name, message: (err as Error)?.message }, subject: this.subject }, "guard: usage publish failed, buffering and retrying");
        }
        this.backoffUntil = Date.now() + this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
        this.enforceBound();
        this.scheduleRetry();
      },
    );
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    const wait = Math.max(0, this.backoffUntil - Date.now());
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, wait);
  }

  /** Drops the oldest waiting events until the buffer fits its bound. */
  private enforceBound(): void {
    let over = this.current.length + this.backlogEvents - this.opts.bufferMax;
    if (over <= 0) return;
    if (!this.dropping) {
      this.dropping = true;
      this.log?.warn({ bufferMax: this.opts.bufferMax }, "guard: usage buffer full, dropping oldest events");
    }
    while (over > 0 && this.backlog.length > 0) {
      const head = this.backlog[0]!;
      const k = Math.min(over, head.events.length);
      head.events.splice(0, k);
      this.backlogEvents -= k;
      this.counters.dropped += k;
      over -= k;
      if (head.events.length === 0) this.backlog.shift();
    }
    if (over > 0) {
      this.current.splice(0, over);
      this.counters.dropped += over;
    }
  }
}
