/** keys.lookup: the usage service's way to learn a key's real owner. */
import { describe, expect, test } from "bun:test";
import { subjects, type KeyLookupReply } from "@riskinmind/contracts";
import { useKeysStack, newOwner } from "@riskinmind/testkit";

const env = useKeysStack();

async function lookup(payload: unknown): Promise<KeyLookupReply> {
  const data = typeof payload === "string" ? payload : JSON.stringify(payload);
  const msg = await env.nc.request(subjects(env.topo).keyLookup, new TextEncoder().encode(data), { timeout: 5000 });
  return JSON.parse(new TextDecoder().decode(msg.data)) as KeyLookupReply;
}

async function issue(path = "/api/v1/keys/generate", o?: Awaited<ReturnType<typeof newOwner>>) {
  const who = o ?? (await newOwner("lookup"));
  const res = await env.a.call("POST", path, { headers: who.headers });
  expect([200, 201]).toContain(res.status);
  return { sub: who.sub, keyId: res.body.data.keyId as string, who };
}

describe("keys.lookup", () => {
  test("answers each known key with its owner, revoked keys included; unknown ids are absent", async () => {
    const x = await issue();
    const y = await issue();
    const replaced = await issue("/api/v1/keys/regenerate", x.who); // x's first key is now revoked
    const reply = await lookup({ keyIds: [x.keyId, y.keyId, replaced.keyId, "key_neverissued000000000000"] });
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    const got = new Map(reply.keys.map((k) => [k.keyId, k.ownerId]));
    expect(got).toEqual(
      new Map([
        [x.keyId, x.sub],
        [y.keyId, y.sub],
        [replaced.keyId, x.sub],
      ]),
    );
  });

  test("a malformed request always gets VALIDATION_ERROR, never silence", async () => {
    for (const bad of ["not json", "null", "{}", JSON.stringify({ keyIds: [] }), JSON.stringify({ keyIds: "key_x" }), JSON.stringify({ keyIds: Array.from({ length: 1001 }, (_, i) => `key_${i}`) })]) {
      const reply = await lookup(bad);
      expect(reply).toMatchObject({ ok: false, code: "VALIDATION_ERROR" });
    }
  });

  test("Postgres unreachable → DATABASE_UNAVAILABLE, an answer rather than a timeout", async () => {
    const c = await env.start();
    await env.a.service.stop();
    try {
      await c.sql.end({ timeout: 1 });
      expect(await lookup({ keyIds: ["key_any"] })).toMatchObject({ ok: false, code: "DATABASE_UNAVAILABLE" });
    } finally {
      await c.service.stop();
      await env.a.service.start();
    }
  });
});
