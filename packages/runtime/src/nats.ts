import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection } from "nats";
import type { Logger } from "pino";
import { INBOX_PREFIX, type NatsIdentity } from "@riskinmind/contracts";
import { parseNatsUrls } from "./nats-url";

export interface NatsSettings {
  NATS_URL: string;
  NATS_CREDS_FILE?: string | undefined;
  NATS_NKEY_SEED_FILE?: string | undefined;
}

/**
 * Connects as `identity` with reconnects forever: a NATS restart is survived
 * without a process restart. User and password may ride in the URL
 * (`nats://user:pass@host:4222`), a token as `nats://token@host`. A cluster
 * is a comma-separated list (`nats://u:p@h1:4222,nats://u:p@h2:4222`): the
 * client knows every node from the start, so losing the one it is on (even
 * before it learned the others from gossip) moves it to another. A creds or
 * nkey file is read from disk, never from the environment's text.
 * Replies come to the identity's own inbox prefix: the server lets each
 * identity subscribe only there (nats/nats-server.conf), so nobody else can
 * read the answers to its requests, and it cannot read anyone else's.
 */
export async function connectNats(s: NatsSettings, identity: NatsIdentity, name: string, log?: Logger): Promise<NatsConnection> {
  const { servers, user, pass, token } = parseNatsUrls(s.NATS_URL);
  const opts: Parameters<typeof connect>[0] = {
    servers,
    name,
    inboxPrefix: INBOX_PREFIX[identity],
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    pingInterval: 10_000,
    waitOnFirstConnect: true,
  };
  if (user && pass) Object.assign(opts, { user, pass });
  else if (token) opts.token = token;
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
