/**
 * 100 concurrent generate/regenerate/revoke calls for one owner, in a seeded
 * random order, against a keys-service process: at every moment at most one
 * active key (polled in the database during the run), every key ever
 * returned is either the active one or refused, and GET /api/v1/keys/
 * agrees with verification.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deploy, type Deployment, newOwner, prng, req } from "@riskinmind/testkit";

let d: Deployment;

beforeAll(async () => {
  d = await deploy({ services: ["keys"], extra: { DB_POOL_MAX: "20" } });
});
afterAll(async () => {
  await d?.close();
});

const VERBS = ["generate", "regenerate", "revoke"] as const;

describe("concurrent key mutations for one owner", () => {
  for (const seed of [1, 2]) {
    test(`100 mixed calls (seed ${seed}): never two active keys, every returned key active or refused, GET agrees`, async () => {
      const owner = await newOwner(`conc${seed}`);
      const rnd = prng(seed);
      const plan = Array.from({ length: 100 }, () => rnd.pick(VERBS));

      let polling = true;
      let maxActive = 0;
      let polls = 0;
      const poller = (async () => {
        while (polling) {
          const [r] = await d.sql`select count(*)::int as n from keys.api_keys where status = 'ACTIVE' and owner_id = ${owner.sub}`;
          maxActive = Math.max(maxActive, r!.n);
          polls++;
        }
      })();

      const results = await Promise.all(
        plan.map(async (verb) => {
          const r = await req(`${d.keys!.url}/api/v1/keys/${verb}`, { method: "POST", headers: owner.headers, timeoutMs: 20_000 });
          return { verb, status: r.status, body: r.body };
        }),
      );
      polling = false;
      await poller;

      // Every answer is one the contract allows for the verb; nothing failed with a 5xx.
      const allowed: Record<string, number[]> = { generate: [201, 409], regenerate: [200], revoke: [200, 404] };
      for (const r of results) expect({ verb: r.verb, status: r.status, ok: allowed[r.verb]!.includes(r.status) }).toEqual({ verb: r.verb, status: r.status, ok: true });
      expect(polls).toBeGreaterThan(3);
      expect(maxActive).toBeLessThanOrEqual(1);

      const issued = results
        .filter((r) => r.status === 200 || r.status === 201)
        .map((r) => r.body.data)
        .filter((x) => x?.apiKey);
      expect(issued.length).toBeGreaterThan(0);
      const current = await req(`${d.keys!.url}/api/v1/keys/`, { headers: owner.headers });
      const activeId: string | null = current.status === 200 ? current.body.data.keyId : null;
      if (current.status !== 200) expect(current.status).toBe(404);
      let valid = 0;
      for (const k of issued) {
        const v = await d.verify(k.apiKey);
        if (k.keyId === activeId) {
          expect(v).toMatchObject({ valid: true, keyId: k.keyId, ownerId: owner.sub });
          valid++;
        } else {
          expect(v).toEqual({ valid: false, code: "KEY_REVOKED" });
        }
      }
      // GET / agrees with verification: the active key (if any) is one that was returned and verifies.
      expect(valid).toBe(activeId === null ? 0 : 1);
      const [rows] = await d.sql`select count(*)::int as n from keys.api_keys where status = 'ACTIVE' and owner_id = ${owner.sub}`;
      expect(rows!.n).toBe(activeId === null ? 0 : 1);
    }, 60_000);
  }
});
