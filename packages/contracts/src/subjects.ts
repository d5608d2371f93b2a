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
}

export const DEFAULT_TOPOLOGY: Topology = { prefix: "", stream: "USAGE" };

/** Queue groups: replicas of one service share a subject's load. */
export const QUEUE = { keys: "keys", usage: "usage" } as const;

/** Durable pull consumer shared by every usage-service replica. */
export const USAGE_CONSUMER = "usage-ingest";

export function subjects(t: Topology) {
  return {
    /** request/reply: is this key good? */
    verify: `${t.prefix}keys.verify`,
    /** broadcast: a key stopped being valid; every cache drops it. */
    keyRevoked: `${t.prefix}keys.events.revoked`,
    /** broadcast: an owner's active key changed (issued, rotated, revoked); caches of "the owner's current key" drop it. */
    ownerKeyChanged: `${t.prefix}keys.events.owner-changed`,
    /** JetStream: usage events, one or an array per message. */
    usageEvents: `${t.prefix}usage.events`,
    /** request/reply: a page of an owner's usage logs. */
    logsQuery: `${t.prefix}usage.logs.query`,
  };
}
export type Subjects = ReturnType<typeof subjects>;
