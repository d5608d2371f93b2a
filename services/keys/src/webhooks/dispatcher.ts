import { AckPolicy, DeliverPolicy, nanos, StorageType, type ConsumerMessages, type JetStreamManager, type JsMsg, type NatsConnection } from "nats";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ensureKeyStream, keyStreamConfig } from "../events/key-stream";
import { keyStreamOf, KeyEventSchema, parseJson, subjects, WEBHOOK_CONSUMER, type Topology } from "@riskinmind/contracts";
import { errFields, isDbUnavailable, type Logger, type Sql } from "@riskinmind/runtime";
/** Wakes the delivery loop at once (else it finds new rows on its next poll). */
export interface Nudge {
  nudge(): void;
}

const checkEvent = TypeCompiler.Compile(KeyEventSchema);
/** How long JetStream waits for an ack before it redelivers (an insert takes milliseconds). */
const ACK_WAIT_MS = 30_000;
/** A message that could not be fanned out (Postgres down) comes back after this. */
const RETRY_MS = 2_000;

const exists = (err: unknown) => /already (exists|in use)/i.test((err as { message?: string })?.message ?? "");

/** The durable pull consumer every replica shares: each event is fanned out by one replica. */
async function ensureConsumer(jsm: JetStreamManager, stream: string): Promise<void> {
  try {
    await jsm.consumers.add(stream, {
      durable_name: WEBHOOK_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ACK_WAIT_MS),
      max_deliver: -1,
      deliver_policy: DeliverPolicy.All,
    });
  } catch (err) {
    if (!exists(err)) throw err;
  }
}

/**
 * Reads key events from the stream and turns each into one delivery row per
 * matching endpoint of the event's owner (same mode, subscribed type), then
 * acks. The unique (endpoint, event) pair makes a redelivered message add
 * nothing, so a crash between insert and ack is harmless. Endpoints
 * registered after an event was fanned out do not get it.
 */
export class WebhookDispatcher {
  private messages: ConsumerMessages | undefined;
  private done: Promise<void> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly d: { nc: NatsConnection; sql: Sql; log: Logger; topo: Topology; worker: Nudge; maxAgeHours: number; replicas: number }) {}

  /**
   * Attaches to the stream. When JetStream cannot be reached, the service
   * starts anyway (key operations do not depend on webhooks) and this keeps
   * trying in the background; events wait in the stream meanwhile.
   */
  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.attach();
    } catch (err) {
      this.d.log.warn({ ...errFields(err) }, "webhook dispatcher not attached to the key-events stream; retrying");
      this.retry = setTimeout(() => void this.start(), RETRY_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.messages?.stop();
    await this.done;
  }

  private async attach(): Promise<void> {
    const jsm = await this.d.nc.jetstreamManager();
    const stream = keyStreamOf(this.d.topo);
    await ensureKeyStream(jsm, keyStreamConfig({ stream, maxAgeHours: this.d.maxAgeHours, replicas: this.d.replicas }, subjects(this.d.topo).keyEvents), this.d.log);
    await ensureConsumer(jsm, stream);
    const consumer = await this.d.nc.jetstream().consumers.get(stream, WEBHOOK_CONSUMER);
    if (this.stopped) return;
    this.messages = await consumer.consume({ max_messages: 100 });
    this.done = this.run(this.messages)
      .catch((err) => this.d.log.error({ ...errFields(err) }, "webhook dispatcher ended with an error"))
      .then(() => {
        // Ended without stop() (the consumer was deleted, the stream recreated): attach again.
        if (!this.stopped) this.retry = setTimeout(() => void this.start(), RETRY_MS);
      });
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) await this.fanOut(msg);
  }

  private async fanOut(msg: JsMsg): Promise<void> {
    const text = new TextDecoder().decode(msg.data);
    const ev = parseJson(msg.data);
    if (!checkEvent.Check(ev)) {
      // Counts and positions only: the stream's content is not ours to log.
      this.d.log.warn({ streamSeq: msg.info.streamSequence, bytes: msg.data.length }, "malformed key event skipped by webhooks");
      msg.term();
      return;
    }
    try {
      const rows = await this.d.sql`
        insert into keys.webhook_deliveries (endpoint_id, event_id, event_type, body, next_attempt_at)
        select e.id, ${ev.id}, ${ev.type}, ${text}, now() from keys.webhook_endpoints e
        where e.owner_id = ${ev.data.ownerId} and e.mode = ${ev.data.mode} and e.deleted_at is null
          and (e.events @> array[${ev.type}]::text[] or e.events @> array['*']::text[])
        on conflict (endpoint_id, event_id) do nothing
        returning id`;
      msg.ack();
      if (rows.length > 0) this.d.worker.nudge();
    } catch (err) {
      if (!isDbUnavailable(err)) this.d.log.error({ ...errFields(err), eventId: ev.id }, "key event not fanned out to webhooks; will retry");
      msg.nak(RETRY_MS);
    }
  }
}
