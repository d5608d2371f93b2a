/** NATS names: the wire contract's subjects (nats/nats-server.conf grants permissions by these names) and the isolation prefix. */
import { describe, expect, test } from "bun:test";
import { INBOX_PREFIX, QUEUE, subjects, USAGE_CONSUMER } from "./subjects";

describe("subjects", () => {
  test("without a prefix they are the documented names", () => {
    expect(subjects({ prefix: "", stream: "USAGE" })).toEqual({
      verify: "keys.verify",
      keyLookup: "keys.lookup",
      keyRevoked: "keys.cache.revoked",
      keyChanged: "keys.cache.changed",
      limitsTake: "keys.limits.take",
      ownerKeyChanged: "keys.cache.owner-changed",
      keyEvents: "keys.events.*",
      usageEvents: "usage.events",
      logsQuery: "usage.logs.query",
      logsAggregate: "usage.logs.aggregate",
    });
  });

  test("the prefix goes in front of every subject, and no two subjects are the same", () => {
    const plain = subjects({ prefix: "", stream: "USAGE" });
    const prefixed = subjects({ prefix: "t1a2b.", stream: "USAGE_t1a2b" });
    for (const [name, subject] of Object.entries(prefixed)) expect(subject).toBe(`t1a2b.${plain[name as keyof typeof plain]}`);
    expect(new Set(Object.values(prefixed)).size).toBe(Object.keys(prefixed).length);
  });

  test("queue groups, inboxes and the durable consumer keep the names the server config and replicas rely on", () => {
    expect(QUEUE).toEqual({ keys: "keys", usage: "usage" });
    expect(INBOX_PREFIX).toEqual({ keys: "_INBOX.keys", usage: "_INBOX.usage", guard: "_INBOX.guard" });
    expect(USAGE_CONSUMER).toBe("usage-ingest");
  });
});
