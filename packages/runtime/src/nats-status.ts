import type { NatsConnection, Status } from "nats";

export interface NatsStatusWatcher {
  /** True while connected: not closed and no disconnect since the last reconnect. */
  up(): boolean;
  /** Ends the status stream (the connection itself is the caller's). */
  stop(): void;
}

/**
 * The one loop over `nc.status()`: tracks whether the connection is up and
 * calls back on disconnect and reconnect (a reconnect means every message
 * sent meanwhile was lost, so callers drop what those messages would have
 * invalidated). A throwing callback is swallowed: it must not end the loop.
 */
export function watchNatsStatus(nc: NatsConnection, on: { onDisconnect?(): void; onReconnect?(): void } = {}): NatsStatusWatcher {
  let connected = !nc.isClosed();
  const status = nc.status() as AsyncIterable<Status> & { stop(): void };
  void (async () => {
    for await (const s of status) {
      if (s.type === "disconnect") {
        connected = false;
        try {
          on.onDisconnect?.();
        } catch {}
      } else if (s.type === "reconnect") {
        connected = true;
        try {
          on.onReconnect?.();
        } catch {}
      }
    }
  })().catch(() => {});
  return {
    up: () => connected && !nc.isClosed(),
    stop: () => status.stop(),
  };
}
