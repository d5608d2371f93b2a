import { AckPolicy, DeliverPolicy, nanos, StorageType, type JetStreamManager, type StreamConfig } from "nats";
import { USAGE_CONSUMER } from "@riskinmind/contracts";

/** How long an unacked message waits before JetStream redelivers it (default of USAGE_ACK_WAIT_MS). */
export const ACK_WAIT_MS = 30_000;
/** Enough unacked messages in flight for batching across replicas. */
export const MAX_ACK_PENDING = 20_000;

function isAlreadyExists(err: unknown): boolean {
  const e = err as { message?: string; api_error?: { err_code?: number } };
  // 10058: stream name already in use with a different configuration.
  return e?.api_error?.err_code === 10058 || /already in use|already exists/i.test(e?.message ?? "");
}

/**
 * Creates the usage stream or brings an existing one (made by a publisher
 * that started first, or an older deployment) to this configuration.
 * Returns the stream's creation time (informational: events are keyed by
 * their own required id, never by stream position).
 */
export async function ensureUsageStream(jsm: JetStreamManager, opts: { stream: string; subject: string; maxAgeHours: number; replicas?: number }): Promise<string> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: opts.stream,
    subjects: [opts.subject],
    storage: StorageType.File,
    max_age: nanos(opts.maxAgeHours * 3600 * 1000),
    duplicate_window: nanos(2 * 60 * 1000),
    // NATS_STREAM_REPLICAS: 3 on a 3-node cluster keeps every event through the loss of one node;
    // an existing stream is scaled to it by the update below.
    num_replicas: opts.replicas ?? 1,
  };
  try {
    await jsm.streams.add(config);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const { name, ...update } = config;
    await jsm.streams.update(name, update);
  }
  const info = await jsm.streams.info(opts.stream);
  return info.created;
}

/** The durable pull consumer every replica shares (they split its messages). */
export async function ensureIngestConsumer(jsm: JetStreamManager, opts: { stream: string; subject: string; ackWaitMs?: number }): Promise<void> {
  const config = {
    durable_name: USAGE_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(opts.ackWaitMs ?? ACK_WAIT_MS),
    max_ack_pending: MAX_ACK_PENDING,
    max_deliver: -1,
    filter_subject: opts.subject,
    deliver_policy: DeliverPolicy.All,
  };
  try {
    await jsm.consumers.add(opts.stream, config);
  } catch (err) {
    const e = err as { message?: string };
    if (!/already exists|already in use/i.test(e?.message ?? "")) throw err;
    const { durable_name, deliver_policy, ...update } = config;
    await jsm.consumers.update(opts.stream, durable_name, update);
  }
}
