/**
 * The key-events stream (`keys.events.*`): its configuration in one place,
 * for the outbox publisher that fills it and the webhook dispatcher that
 * reads it (whichever starts first creates it).
 */
import { errFields, type Logger } from "@riskinmind/runtime";
import { nanos, StorageType, type JetStreamManager, type StreamConfig } from "nats";

/**
 * JetStream drops a message whose id it saw within this window. A row is
 * published, then deleted in the same round's transaction: a crash (or a lost
 * commit) between the two publishes it again on the next round or after a
 * restart, with the same id. The window must outlast that gap: 10 minutes
 * covers a restart and a Postgres outage of a few minutes. A longer window
 * costs server memory per message id.
 */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;
/**
 * The stream's configuration, one place: what ensureKeyStream creates and the
 * permissions test expects. `replicas` (NATS_STREAM_REPLICAS, default 1): on
 * a cluster, 3 keeps every event through the loss of one node.
 */
export function keyStreamConfig(d: { stream: string; maxAgeHours: number; replicas?: number }, subject: string): Partial<StreamConfig> & { name: string } {
  return {
    name: d.stream,
    subjects: [subject],
    storage: StorageType.File,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    max_age: nanos(d.maxAgeHours * 3600 * 1000),
    num_replicas: d.replicas ?? 1,
  };
}

const isNotFound = (err: unknown) => {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || /stream not found/i.test(e?.message ?? "");
};

/**
 * Creates the key-events stream, or brings an existing one to this
 * configuration. An update the server refuses (the keys user may update only
 * the stream named KEY_EVENTS, nats-server.conf) is logged, not fatal: the
 * stream still takes the events.
 */
export async function ensureKeyStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }, log: Logger): Promise<void> {
  let info: Awaited<ReturnType<JetStreamManager["streams"]["info"]>>;
  try {
    info = await jsm.streams.info(cfg.name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.streams.add(cfg);
    } catch (e) {
      // Another replica (or this one's webhook dispatcher) made it meanwhile.
      if (!/already in use|already exists/i.test((e as { message?: string })?.message ?? "")) throw e;
    }
    return;
  }
  const c = info.config;
  if (c.max_age === cfg.max_age && c.duplicate_window === cfg.duplicate_window && c.subjects.join() === cfg.subjects?.join() && c.num_replicas === cfg.num_replicas) return;
  const { name, ...update } = cfg;
  try {
    await jsm.streams.update(name, update);
  } catch (err) {
    log.warn({ ...errFields(err), stream: name }, "key-events stream settings differ from the configuration and could not be updated");
  }
}
