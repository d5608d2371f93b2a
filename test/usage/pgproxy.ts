/**
 * A TCP relay in front of the real Postgres that a test can cut and restore:
 * an outage for one service without stopping the server other tests share.
 */
import type { Socket, TCPSocketListener } from "bun";

export interface PgProxy {
  port: number;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  restore(): void;
  close(): void;
}

export function startPgProxy(target: { host: string; port: number }): PgProxy {
  let up = true;
  const pairs = new Set<{ client: Socket<Conn>; upstream?: Socket<unknown> }>();
  interface Conn { pair: { client: Socket<Conn>; upstream?: Socket<unknown>; queue: Uint8Array[] } }
  const server: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        if (!up) return void client.end();
        const pair = { client, upstream: undefined as Socket<unknown> | undefined, queue: [] as Uint8Array[] };
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
      data(client, chunk) {
        const pair = client.data.pair;
        if (pair.upstream) pair.upstream.write(chunk);
        else pair.queue.push(new Uint8Array(chunk));
      },
      close(client) {
        client.data?.pair.upstream?.end();
        if (client.data) pairs.delete(client.data.pair);
      },
    },
  });
  return {
    port: server.port,
    cut() {
      up = false;
      for (const p of pairs) {
        p.client.terminate();
        p.upstream?.terminate();
      }
      pairs.clear();
    },
    restore() {
      up = true;
    },
    close() {
      this.cut();
      server.stop(true);
    },
  };
}
