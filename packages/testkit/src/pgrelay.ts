/**
 * A TCP relay in front of the real Postgres with two kinds of outage:
 * - "stopped": open connections are killed and the port refuses new ones
 *   (ECONNREFUSED), which is what a client sees when Postgres is stopped;
 * - "dropping": connections are accepted and closed at once, which is what a
 *   TCP load balancer or pooler in front of a dead Postgres does.
 */
import type { Socket, TCPSocketListener } from "bun";

export type Outage = "stopped" | "dropping";

export interface PgRelay {
  port: number;
  cut(kind?: Outage): void;
  restore(): void;
  close(): void;
}

interface Pair {
  client: Socket<Conn>;
  upstream?: Socket<unknown>;
  queue: Uint8Array[];
}
interface Conn {
  pair?: Pair;
}

export function startPgRelay(target: { host: string; port: number }): PgRelay {
  let state: "up" | Outage = "up";
  const pairs = new Set<Pair>();
  const handlers = {
    open(client: Socket<Conn>) {
      // Refused after accept: a FIN (end) for "dropping", like a balancer with no backend.
      if (state !== "up") return void client.end();
      const pair: Pair = { client, queue: [] };
      client.data = { pair };
      pairs.add(pair);
      Bun.connect({
        hostname: target.host,
        port: target.port,
        socket: {
          open(up) {
            pair.upstream = up;
            for (const q of pair.queue) up.write(q);
            pair.queue = [];
          },
          data(_s, chunk) {
            client.write(chunk);
          },
          close() {
            client.end();
          },
          error() {
            client.end();
          },
        },
      }).catch(() => client.end());
    },
    data(client: Socket<Conn>, chunk: Buffer) {
      const pair = client.data?.pair;
      if (!pair) return;
      if (pair.upstream) pair.upstream.write(chunk);
      else pair.queue.push(new Uint8Array(chunk));
    },
    close(client: Socket<Conn>) {
      const pair = client.data?.pair;
      pair?.upstream?.end();
      if (pair) pairs.delete(pair);
    },
  };
  let server: TCPSocketListener<Conn> | undefined = Bun.listen<Conn>({ hostname: "127.0.0.1", port: 0, socket: handlers });
  const port = server.port;
  const killAll = () => {
    for (const p of pairs) {
      p.client.terminate();
      p.upstream?.terminate();
    }
    pairs.clear();
  };
  return {
    port,
    cut(kind: Outage = "stopped") {
      state = kind;
      killAll();
      if (kind === "stopped") {
        server?.stop(true);
        server = undefined;
      }
    },
    restore() {
      state = "up";
      server ??= Bun.listen<Conn>({ hostname: "127.0.0.1", port, socket: handlers });
    },
    close() {
      state = "stopped";
      killAll();
      server?.stop(true);
      server = undefined;
    },
  };
}
