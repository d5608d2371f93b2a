import { keyEventSubject, type Topology } from "@riskinmind/contracts";
import { errFields, type Logger, type Sql } from "@riskinmind/runtime";
import { headers as natsHeaders, type JetStreamClient, type NatsConnection } from "nats";
import type { OutboxNudge } from "../audit/record";
import { ensureKeyStream, keyStreamConfig } from "./key-stream";

/** Rows per round: each is published and acknowledged in order before the next. */
const BATCH = 100;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;
/** Only one replica publishes at a time (per-owner order holds across replicas). */
const PUBLISHER_LOCK = "keys:outbox-publisher";

export interface OutboxDeps {
  sql: Sql;
  nc: NatsConnection;
  log: Logger;
  topo: Topology;
  /** The stream's name (keyStreamOf(topo)) and its max age. */
  stream: string;
  maxAgeHours: number;
  /** The stream's replicas (NATS_STREAM_REPLICAS). */
  replicas: number;
  /** How often the outbox is read when nothing nudges (a change committed by another replica, a failed round). */
  pollMs: number;
}

interface OutboxRow {
  id: string;
  event_id: string;
  subject_token: string;
  payload: unknown;
}

/**
 * The transactional outbox's publisher: sends every keys.outbox row to the
 * key-events stream (subject keys.events.<token>, message id = event id),
 * awaits its PubAck, then deletes it. A round runs in one transaction under
 * a transaction-level advisory lock, so one replica publishes at a time and
 * rows go out in id order (= commit order per owner, whose changes are
 * serialised by lockOwner). A failure (NATS, the stream, Postgres) leaves
 * the rows for the next round, after a back-off; a row published but not
 * deleted goes out again with the same id and the stream drops the copy.
 */
export class OutboxPublisher implements OutboxNudge {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private nudged = false;
  private js: JetStreamClient | undefined;
  private streamReady = false;

  constructor(private readonly d: OutboxDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.js = this.d.nc.jetstream();
    this.loop = this.run();
  }

  /** Stops polling; a round in hand finishes (its rows are acknowledged and deleted, or left for the next publisher). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** A change committed: publish now rather than at the next poll. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      let full = false;
      try {
        if (!this.streamReady) {
          const jsm = await this.d.nc.jetstreamManager();
          await ensureKeyStream(jsm, keyStreamConfig(this.d, keyEventSubject(this.d.topo, "*")), this.d.log);
          this.streamReady = true;
        }
        full = (await this.round()) === BATCH;
        backoff = 0;
      } catch (err) {
        // Never the payload: the error names the failure, the rows stay.
        this.d.log.warn({ ...errFields(err) }, "key events not published; retrying");
        backoff = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, backoff * 2));
      }
      if (!this.running) break;
      if (backoff > 0) await this.sleep(backoff, false);
      else if (!full) await this.sleep(this.d.pollMs, true);
    }
  }

  /** Waits `ms`, or until nudged (when `nudgeable`) or stopped. */
  private sleep(ms: number, nudgeable: boolean): Promise<void> {
    if (nudgeable && this.nudged) {
      this.nudged = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.nudged = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = () => {
        if (nudgeable || !this.running) done();
      };
    });
  }

  /** One batch: returns how many rows went out (0 when another replica holds the lock or nothing waits). */
  private async round(): Promise<number> {
    const js = this.js!;
    return this.d.sql.begin(async (tx) => {
      const [lock] = await tx<{ got: boolean }[]>`select pg_try_advisory_xact_lock(hashtext(${PUBLISHER_LOCK})) as got`;
      if (!lock?.got) return 0;
      const rows = await tx<OutboxRow[]>`
        select id, event_id, subject_token, payload from keys.outbox order by id limit ${BATCH} for update`;
      if (rows.length === 0) return 0;
      for (const r of rows) {
        const h = natsHeaders();
        h.set("Content-Type", "application/json");
        // One at a time, acknowledged before the next: the stream holds them in commit order.
        await js.publish(keyEventSubject(this.d.topo, r.subject_token), JSON.stringify(r.payload), {
          msgID: r.event_id,
          headers: h,
          expect: { streamName: this.d.stream },
        });
      }
      await tx`delete from keys.outbox where id = any(${rows.map((r) => r.id)}::bigint[])`;
      return rows.length;
    });
  }
}
