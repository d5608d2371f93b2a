/**
 * No input stalls ingestion: a batch that Postgres refuses for one event is
 * bisected until that event stands alone; it is dropped and counted, every
 * other event commits, and nothing is redelivered again and again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { USAGE_CONSUMER } from "@riskinmind/contracts";
import { writeBatch } from "../../services/usage/src/ingest/writer";
import { event, metricValue, type UsageInstance, usageStack, type UsageStack, waitFor } from "@riskinmind/testkit";

let f: UsageStack;
let svc: UsageInstance;
beforeAll(async () => {
  f = await usageStack();
  // A real Postgres refusal for an event that passes every check of ours.
  await f.sql.unsafe(`
    create table usage.disk_full (x int);
    create function usage.refuse_poison() returns trigger language plpgsql as $$
    begin
      if new.endpoint = '/poison' then raise exception 'poison event' using errcode = 'P0001'; end if;
      if new.endpoint = '/disk-full' and exists (select 1 from usage.disk_full) then raise exception 'no space' using errcode = '53100'; end if;
      return new;
    end $$;
    create trigger refuse_poison before insert on usage.events for each row execute function usage.refuse_poison();`);
  svc = await f.startService({ batchMax: 500 });
});
afterAll(async () => {
  await f?.cleanup();
});

async function consumerInfo() {
  const jsm = await f.nc.jetstreamManager();
  return jsm.consumers.info(f.topo.stream, USAGE_CONSUMER);
}

describe("poison isolation", () => {
  test("10,000 valid events with a poison message in the middle: every valid event stored, the poison counted and terminated, nothing left pending", async () => {
    const OWNERS = 5;
    const PER_MESSAGE = 100;
    const MESSAGES = 100;
    // Keys issued up front, so the publish loop below is only publishing.
    await f.issueKeys(Array.from({ length: OWNERS }, (_, o) => [event({ ownerId: `p${o}` }).keyId, `p${o}`] as const));
    const pending: Promise<number>[] = [];
    for (let m = 0; m < MESSAGES; m++) {
      const events = Array.from({ length: PER_MESSAGE }, (_, j) => event({ ownerId: `p${(m * PER_MESSAGE + j) % OWNERS}` }));
      pending.push(f.publish(events, { issue: false }));
      if (m === MESSAGES / 2) {
        // The poison message: valid events around one Postgres will not take.
        pending.push(f.publish([event({ ownerId: "p0" }), event({ ownerId: "p1", endpoint: "/poison" }), event({ ownerId: "p2" })], { issue: false }));
      }
    }
    await Promise.all(pending);
    await waitFor(async () => (await f.count()) === 10_002, 60_000, "every valid event stored");
    await waitFor(
      async () => {
        const info = await consumerInfo();
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      30_000,
      "consumer drained",
    );
    expect(await f.count("endpoint = '/poison'")).toBe(0);
    expect(await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "unstorable" })).toBe(1);
    // Per owner the sequence is still 1..total with no gap.
    const gaps = await f.sql`
      select c.owner_id from usage.owner_counters c
      where c.total <> (select count(*) from usage.events e where e.owner_id = c.owner_id)
         or c.total <> (select max(seq) from usage.events e where e.owner_id = c.owner_id)`;
    expect([...gaps]).toEqual([]);
    // The poison's neighbours were stored once and its message acked: not redelivered in a loop.
    const info = await consumerInfo();
    expect(info.num_redelivered).toBe(0);
    expect(info.delivered.stream_seq).toBe(info.ack_floor.stream_seq);
  }, 120_000);

  test("a message whose only events Postgres refuses is terminated, not retried forever", async () => {
    const before = await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "unstorable" });
    const seq = await f.publish([event({ ownerId: "solo", endpoint: "/poison" }), event({ ownerId: "solo", endpoint: "/poison" })]);
    await f.publish(event({ ownerId: "solo-marker" }));
    await waitFor(async () => (await f.count("owner_id = 'solo-marker'")) === 1, 10_000, "marker stored");
    await waitFor(async () => (await consumerInfo()).ack_floor.stream_seq > seq, 10_000, "poison message settled");
    expect(await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "unstorable" })).toBe(before + 2);
    expect(await f.count("owner_id = 'solo'")).toBe(0);
    expect((await consumerInfo()).num_ack_pending).toBe(0);
  }, 30_000);

  test("a lone surrogate or a NUL in any text field is refused at validation and counted; its neighbours are stored", async () => {
    const before = await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "schema" });
    const good = [event({ ownerId: "text" }), event({ ownerId: "text" })];
    // Raw JSON so the lone surrogate travels as the escape `\ud800` (valid JSON, not well-formed Unicode).
    const bad = [
      JSON.stringify(event({ ownerId: "text" })).replace('"ownerId":"text"', '"ownerId":"x\\ud800"'),
      JSON.stringify(event({ ownerId: "text" })).replace('"ownerId":"text"', '"ownerId":"x\\u0000"'),
      JSON.stringify(event({ ownerId: "text" })).replace('"endpoint":"', '"endpoint":"/a\\ud800'),
      JSON.stringify(event({ ownerId: "text" })).replace('"endpoint":"', '"endpoint":"/a\\u0000'),
      JSON.stringify(event({ ownerId: "text" })).replace('"keyId":"', '"keyId":"\\udc00'),
      JSON.stringify(event({ ownerId: "text" })).replace('"id":"', '"id":"\\u0000'),
    ];
    await f.issueKeys([[good[0]!.keyId, "text"]]);
    await f.publishRaw(`[${JSON.stringify(good[0])},${bad.join(",")},${JSON.stringify(good[1])}]`);
    await waitFor(async () => (await f.count("owner_id = 'text'")) === 2, 10_000, "the two good events");
    await waitFor(async () => (await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "schema" })) - before === bad.length, 5000, "refusals counted");
    expect(await f.count("owner_id like 'x%'")).toBe(0);
    expect(await f.count("owner_id = 'text'")).toBe(2);
  }, 30_000);

  test("a batch refused for a reason of the database, not of its rows (53100: disk full), waits and is stored once the cause is gone", async () => {
    await f.sql`insert into usage.disk_full values (1)`;
    const before = await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "unstorable" });
    const redelivered = (await consumerInfo()).num_redelivered;
    await f.publish([event({ ownerId: "full" }), event({ ownerId: "full", endpoint: "/disk-full" })]);
    await waitFor(async () => (await consumerInfo()).num_redelivered > redelivered, 15_000, "the batch nak'ed and redelivered");
    expect(await f.count("owner_id = 'full'")).toBe(0);
    await f.sql`delete from usage.disk_full`;
    await waitFor(async () => (await f.count("owner_id = 'full'")) === 2, 20_000, "both events stored once the disk has room");
    expect(await metricValue(svc.metrics, "usage_events_invalid_total", { reason: "unstorable" })).toBe(before);
  }, 45_000);

  test("the writer ties counter rows to owners by position: an owner Postgres normalises (lone surrogate → U+FFFD) is written, not a crash", async () => {
    // Validation refuses such owners first; this proves the writer no longer depends on it.
    const ev = { key: `i:norm-${crypto.randomUUID()}`, ownerId: "norm\ud800", keyId: "key_norm", endpoint: "/n", method: "GET", statusCode: 200, ts: Date.now(), durationMs: null };
    expect(await writeBatch(f.sql, [ev])).toBe(1);
    const [row] = await f.sql`select owner_id, seq from usage.events where event_key = ${ev.key}`;
    expect(row).toEqual({ owner_id: "norm\ufffd", seq: "1" });
  }, 15_000);
});
