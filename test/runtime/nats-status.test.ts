/**
 * watchNatsStatus against a real nats-server behind a TCP relay: cutting the
 * relay is a disconnect, restoring it a reconnect, and the watcher reports
 * both (up() and the callbacks) without the caller writing its own loop.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { connect, type NatsConnection } from "nats";
import { watchNatsStatus } from "@riskinmind/runtime";
import { natsOptions, type PgRelay, startPgRelay, waitFor } from "@riskinmind/testkit";

let relay: PgRelay | undefined;
let nc: NatsConnection | undefined;
afterAll(async () => {
  await nc?.close().catch(() => {});
  relay?.close();
});

describe("watchNatsStatus", () => {
  test("reports a disconnect and the reconnect after it, through up() and the callbacks", async () => {
    const server = new URL(String(natsOptions().servers).replace(/^nats:/, "http:"));
    relay = startPgRelay({ host: server.hostname, port: Number(server.port) });
    nc = await connect(natsOptions("admin", { servers: `nats://127.0.0.1:${relay.port}`, maxReconnectAttempts: -1, reconnectTimeWait: 50 }));
    const seen: string[] = [];
    const watch = watchNatsStatus(nc, { onDisconnect: () => seen.push("disconnect"), onReconnect: () => seen.push("reconnect") });
    expect(watch.up()).toBe(true);

    relay.cut("stopped");
    await waitFor(() => !watch.up(), 10_000, "the disconnect");
    expect(seen).toEqual(["disconnect"]);

    relay.restore();
    await waitFor(() => watch.up(), 10_000, "the reconnect");
    expect(seen).toEqual(["disconnect", "reconnect"]);
    watch.stop();
  });

  test("a closed connection is never up", async () => {
    const c = await connect(natsOptions());
    const watch = watchNatsStatus(c);
    expect(watch.up()).toBe(true);
    await c.close();
    expect(watch.up()).toBe(false);
    watch.stop();
  });
});
