import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection } from "nats";
import type { Logger } from "pino";
import { INBOX_PREFIX, type NatsIdentity } from "@riskinmind/contracts";

export interface NatsSettings {
  NATS_URL: string;
  NATS_CREDS_FILE?: string | undefined;
  NATS_NKEY_SEED_FILE?: string | undefined;
}

/**
 * Connects as `identity` with reconnects forever: a NATS restart is survived
 * without a process restart. User and password may ride in the URL
 * (`nats://user:pass@host:4222`), a token as `nats://token@host`; a creds or
 * nkey file is read from disk, never from the environment's text.
 * Replies come to the identity's own inbox prefix: the server lets each
 * identity subscribe only there (nats/nats-server.conf), so nobody else can
 * read the answers to its requests, and it cannot read anyone else's.
 */
export async function connectNats(s: NatsSettings, identity: NatsIdentity, name: string, log?: Logger): Promise<NatsConnection> {
  const url = new URL(s.NATS_URL);
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  const opts: Parameters<typeof connect>[0] = {
    servers: url.toString().replace(/\/$/, ""),
    name,
    inboxPrefix: INBOX_PREFIX[identity],
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    pingInterval: 10_000,
    waitOnFirstConnect: true,
  };
  if (user && pass) Object.assign(opts, { user, pass });
  else if (user) opts.token = user;
  if (s.NATS_CREDS_FILE) opts.authenticator = credsAuthenticator(new Uint8Array(readFileSync(s.NATS_CREDS_FILE)));
  else if (s.NATS_NKEY_SEED_FILE) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(s.NATS_NKEY_SEED_FILE, "utf8").trim()));
  const nc = await connect(opts);
  if (log) {
    (async () => {
      for await (const st of nc.status()) {
        if (st.type === "disconnect" || st.type === "reconnect" || st.type === "error") log.warn({ nats: st.type }, "nats status");
      }
    })().catch(() => {});
  }
  return nc;
}
