/**
 * Soak: keys, usage and the example as processes under mixed traffic from a
 * few concurrent loops — verification through the guard, key management
 * (regenerate then use the new key), and log reads — for SOAK_SECONDS
 * (default 50, after a warm-up). Zero errors; every served call is recorded;
 * each process's RSS (VmRSS) stays flat within a generous bound. The figures
 * are printed for the report.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { USAGE_CONSUMER } from "@riskinmind/contracts";
import { deploy, type Deployment, issueKey, newOwner, predict, prng, req, rssKb, usageDuplicates, waitFor } from "@riskinmind/testkit";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 50);
const WARMUP_MS = 8_000;
const VERIFY_LOOPS = Number(process.env.SOAK_VERIFY_LOOPS ?? 2);
let d: Deployment;

beforeAll(async () => {
  // The soak's owners read far more than an owner may per minute: the read limit is not what it measures.
  d = await deploy({ services: ["usage", "keys", "example"], extra: { READ_RATE_LIMIT_PER_MINUTE: "100000000" } });
});
afterAll(async () => {
  await d?.close();
});

describe("soak", () => {
  test(
    `mixed traffic for ${SECONDS} s: no errors, nothing lost, memory flat`,
    async () => {
      const users = await Promise.all(Array.from({ length: 6 }, () => newOwner("soak")));
      const keys = new Map<string, string>();
      for (const u of users) keys.set(u.sub, (await issueKey(d.keys!, u)).apiKey);
      const rotators = await Promise.all(Array.from({ length: 2 }, () => newOwner("soakrot")));
      for (const u of rotators) keys.set(u.sub, (await issueKey(d.keys!, u)).apiKey);

      const errors: string[] = [];
      const served = new Map<string, number>();
      const counts = { verify: 0, manage: 0, logs: 0 };
      const fail = (what: string) => errors.length < 20 && errors.push(what);
      let stopAt = Date.now() + WARMUP_MS + SECONDS * 1000;
      const running = () => Date.now() < stopAt && errors.length === 0;

      const verifyLoop = async (seed: number) => {
        const r = prng(seed);
        while (running()) {
          const u = r.pick(users);
          try {
            const res = await predict(d.example!, keys.get(u.sub)!);
            if (res.status !== 200) fail(`predict ${res.status} ${res.text.slice(0, 120)}`);
            else served.set(u.sub, (served.get(u.sub) ?? 0) + 1);
          } catch (e) {
            fail(`predict: ${(e as Error).message}`);
          }
          counts.verify++;
        }
      };
      const manageLoop = async (seed: number) => {
        const r = prng(seed);
        while (running()) {
          const u = r.pick(rotators);
          try {
            const reg = await req(`${d.keys!.url}/api/v1/keys/regenerate`, { method: "POST", headers: u.headers, json: { label: `rot ${counts.manage}` } });
            if (reg.status !== 200) fail(`regenerate ${reg.status} ${reg.text.slice(0, 120)}`);
            keys.set(u.sub, reg.body.data.apiKey);
            const use = await predict(d.example!, reg.body.data.apiKey);
            if (use.status !== 200) fail(`new key predict ${use.status}`);
            else served.set(u.sub, (served.get(u.sub) ?? 0) + 1);
            const cur = await req(`${d.keys!.url}/api/v1/keys/`, { headers: u.headers });
            if (cur.status !== 200 || cur.body.data.keyId !== reg.body.data.keyId) fail(`GET / ${cur.status} disagrees`);
          } catch (e) {
            fail(`manage: ${(e as Error).message}`);
          }
          counts.manage++;
          await Bun.sleep(r.int(5, 40));
        }
      };
      const logsLoop = async (seed: number) => {
        const r = prng(seed);
        while (running()) {
          const u = r.pick([...users, ...rotators]);
          try {
            const res = await req(`${d.keys!.url}/api/v1/keys/logs?page=${r.int(1, 5)}&limit=${r.int(1, 100)}`, { headers: u.headers });
            if (res.status !== 200) fail(`logs ${res.status} ${res.text.slice(0, 120)}`);
          } catch (e) {
            fail(`logs: ${(e as Error).message}`);
          }
          counts.logs++;
        }
      };

      const procs = { keys: d.keys!, usage: d.usage!, example: d.example! };
      // Two verification loops by default: every process busy, and ingestion keeps up on two cores.
      const loops = [...Array.from({ length: VERIFY_LOOPS }, (_, i) => verifyLoop(10 + i)), manageLoop(4), logsLoop(5)];
      await Bun.sleep(WARMUP_MS); // the warm-up is the traffic itself: JIT, pools and caches filled
      const warm = Object.fromEntries(Object.entries(procs).map(([k, s]) => [k, rssKb(s.pid)]));
      const peak = { ...warm };
      const sampler = setInterval(() => {
        for (const [k, s] of Object.entries(procs)) peak[k] = Math.max(peak[k]!, rssKb(s.pid));
      }, 1000);
      const atWarm = { ...counts };
      await Promise.all(loops);
      clearInterval(sampler);
      const end = Object.fromEntries(Object.entries(procs).map(([k, s]) => [k, rssKb(s.pid)]));
      stopAt = 0;

      expect(errors).toEqual([]);
      const totalServed = [...served.values()].reduce((a, b) => a + b, 0);
      // Nothing lost: every served call is a usage row (the guard batches; wait for the tail).
      const tailStart = Date.now();
      await waitFor(
        async () => {
          const [r] = await d.sql`select count(*)::int as n from usage.events`;
          return r!.n >= totalServed;
        },
        90_000,
        `${totalServed} usage rows`,
      ).catch(async (e) => {
        // Say where the missing rows are: still in the stream, held unacked, or gone.
        const jsm = await d.nc.jetstreamManager();
        const si = await jsm.streams.info(d.topo.stream);
        const ci = await jsm.consumers.info(d.topo.stream, USAGE_CONSUMER);
        const [r] = await d.sql`select count(*)::int as n from usage.events`;
        throw new Error(
          `${(e as Error).message}: ${r!.n} stored; stream ${si.state.messages} msgs; consumer pending ${ci.num_pending}, ack pending ${ci.num_ack_pending}, redelivered ${ci.num_redelivered}\n${d.usage!.child.output().slice(-2000)}`,
        );
      });
      const tailMs = Date.now() - tailStart;
      const [rows] = await d.sql`select count(*)::int as n from usage.events`;
      expect(rows!.n).toBe(totalServed);
      expect(await usageDuplicates(d.sql)).toBe(0);
      for (const [k, s] of Object.entries(procs)) expect({ k, alive: s.alive() }).toEqual({ k, alive: true });

      const measured = { verify: counts.verify - atWarm.verify, manage: counts.manage - atWarm.manage, logs: counts.logs - atWarm.logs };
      const mb = (kb: number) => Math.round(kb / 102.4) / 10;
      console.log(
        `[soak] ${SECONDS} s after ${WARMUP_MS / 1000} s warm-up: ${measured.verify} verified calls, ${measured.manage} rotations (regenerate + use + GET), ${measured.logs} log reads; ` +
          `${totalServed} usage rows in total (ingestion tail ${tailMs} ms), 0 errors. RSS MB warm→end (peak): ` +
          Object.keys(procs)
            .map((k) => `${k} ${mb(warm[k]!)}→${mb(end[k]!)} (${mb(peak[k]!)})`)
            .join(", "),
      );
      for (const k of Object.keys(procs)) expect({ k, flat: end[k]! < 2 * warm[k]! + 64 * 1024 }).toEqual({ k, flat: true });
    },
    (SECONDS + 120) * 1000,
  );
});
