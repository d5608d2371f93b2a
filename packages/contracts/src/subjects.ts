/**
 * NATS names. Every subject can carry a prefix and the stream a suffix so that
 * two deployments (or two test runs) share one NATS server without crosstalk;
 * production uses neither.
 */
export interface Topology {
  /** Prepended to every subject, e.g. `t1a2b.`; empty in production. */
  prefix: string;
  /** JetStream stream holding usage events. */
  stream: string;
  /**
   * JetStream stream holding key events (`keys.events.<type>`, issue 13);
   * KEY_EVENTS when absent. Only the keys service and key-event readers need it.
   */
  keyStream?: string;
}

/** Queue groups: replicas of one service share a subject's load. */
export const QUEUE = { keys: "keys", usage: "usage" } as const;

/**
 * nats.js Services API names: each responder service is discoverable, with
 * its stats, under `$SRV.{PING,INFO,STATS}[.<name>[.<id>]]`. nats-server.conf
 * lets each service's user subscribe there under its own name only.
 */
export const NATS_SERVICE = { keys: "riskinmind-keys", usage: "riskinmind-usage" } as const;
/** Endpoint names in $SRV info and stats (each serves one subject below). */
export const NATS_ENDPOINT = { verify: "verify", keyLookup: "lookup", limitsTake: "limits-take", logsQuery: "logs-query", logsAggregate: "logs-aggregate" } as const;

/**
 * Each NATS identity's reply inbox. The server's permissions let an identity
 * subscribe only to its own, so no party can read the replies another one asked for.
 */
export const INBOX_PREFIX = { keys: "_INBOX.keys", usage: "_INBOX.usage", guard: "_INBOX.guard" } as const;
export type NatsIdentity = keyof typeof INBOX_PREFIX;

/** Durable pull consumer shared by every usage-service replica. */
export const USAGE_CONSUMER = "usage-ingest";

/** The subject of one key event type: `keys.events.<token>`, token = eventSubjectToken(type) (key-events.ts). */
export const keyEventSubject = (t: Topology, token: string): string => `${t.prefix}keys.events.${token}`;

/** The key-events stream's name in this topology. */
export const keyStreamOf = (t: Topology): string => t.keyStream ?? "KEY_EVENTS";

export function subjects(t: Topology) {
  return {
    /** request/reply: is this key (by its SHA-256) good? Guards ask, keys answers. */
    verify: `${t.prefix}keys.verify`,
    /** request/reply: who owns these key ids? Only usage asks, keys answers. */
    keyLookup: `${t.prefix}keys.lookup`,
    /** broadcast: a key stopped being valid; every cache drops it. */
    keyRevoked: `${t.prefix}keys.cache.revoked`,
    /** broadcast: a key's policy changed; every cache drops its verdict for it. */
    keyChanged: `${t.prefix}keys.cache.changed`,
    /** request/reply: guards take rate-limit and quota units in batches (see limits.ts). */
    limitsTake: `${t.prefix}keys.limits.take`,
    /** broadcast: an owner's active key changed (issued, rotated, revoked); caches of "the owner's current key" drop it. */
    ownerKeyChanged: `${t.prefix}keys.cache.owner-changed`,
    /** JetStream (stream keyStreamOf(t)): one committed key change per message on `keys.events.<token>` (keyEventSubject). */
    keyEvents: `${t.prefix}keys.events.*`,
    /** JetStream: usage events, one or an array per message. */
    usageEvents: `${t.prefix}usage.events`,
    /** request/reply: a page of an owner's usage logs. */
    logsQuery: `${t.prefix}usage.logs.query`,
    /** request/reply: an owner's usage counts, errors and latencies per hour or day (GET /usage). */
    logsAggregate: `${t.prefix}usage.logs.aggregate`,
  };
}
export type Subjects = ReturnType<typeof subjects>;
