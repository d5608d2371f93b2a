/**
 * The bound on a lost revocation broadcast: every keys replica re-reads recent
 * revocations from Postgres, drops them from its caches and re-announces them
 * for the guards. The test revokes a key in the database behind the service's
 * back (so no broadcast was ever sent) and expects it refused anyway.
 */
import { describe, expect, test } from "bun:test";
import { subjects, type KeyChangedEvent, type KeyRevokedEvent } from "@riskinmind/contracts";
import { useKeysStack, newOwner, waitFor, issueKey } from "@riskinmind/testkit";

const env = useKeysStack({ REVOCATION_POLL_MS: "100" });

describe("revocation poll", () => {
  test("a key revoked without any broadcast is refused by the replica that had it cached, and re-announced for the guards", async () => {
    const who = await newOwner("poll");
    const gen = await env.a.call("POST", "/api/v1/keys/generate", { headers: who.headers });
    expect(gen.status).toBe(201);
    const { apiKey, keyId } = gen.body.data;
    expect(await env.verify(apiKey)).toMatchObject({ valid: true, keyId });
    expect((await env.a.call("GET", "/api/v1/keys/", { headers: who.headers })).status).toBe(200);

    const announced: KeyRevokedEvent[] = [];
    const sub = env.nc.subscribe(subjects(env.topo).keyRevoked, { callback: (_e, m) => announced.push(m.json<KeyRevokedEvent>()) });
    await env.nc.flush();
    // Behind the service's back: the row changes, nobody publishes anything.
    await env.sql`update keys.api_keys set status = 'REVOKED', revoked_at = now(), changed_at = now() where id = ${keyId}`;

    await waitFor(async () => (await env.verify(apiKey)).valid === false, 5_000, "revoked key refused");
    expect(await env.verify(apiKey)).toEqual({ valid: false, code: "KEY_REVOKED" });
    await waitFor(() => announced.some((e) => e.keyId === keyId), 5_000, "revocation re-announced");
    expect(announced.find((e) => e.keyId === keyId)).toMatchObject({ keyId, ownerId: who.sub });
    // The owner's cached "current key" was dropped too.
    expect((await env.a.call("GET", "/api/v1/keys/", { headers: who.headers })).status).toBe(404);
    sub.unsubscribe();
  });

  test("each revocation is handled once, not on every poll", async () => {
    const revokeBehindTheBack = async (prefix: string) => {
      const who = await newOwner(prefix);
      const { keyId } = await issueKey(env.a, who);
      await env.sql`update keys.api_keys set status = 'REVOKED', revoked_at = now(), changed_at = now() where id = ${keyId}`;
      return keyId as string;
    };
    const announced: string[] = [];
    const sub = env.nc.subscribe(subjects(env.topo).keyRevoked, { callback: (_e, m) => announced.push(m.json<KeyRevokedEvent>().keyId) });
    await env.nc.flush();
    const first = await revokeBehindTheBack("once1");
    await waitFor(() => announced.includes(first), 5_000, "first re-announced");
    // Later polls (proven by a second revocation being picked up, then more) re-read the first row.
    const second = await revokeBehindTheBack("once2");
    await waitFor(() => announced.includes(second), 5_000, "second re-announced");
    const third = await revokeBehindTheBack("once3");
    await waitFor(() => announced.includes(third), 5_000, "third re-announced");
    for (const id of [first, second, third]) expect(announced.filter((x) => x === id).length).toBe(1);
    sub.unsubscribe();
  });

  test("a key just issued is not announced: only changes are, so guards verifying the new key keep their answer", async () => {
    const seen: string[] = [];
    const subs = [subjects(env.topo).keyChanged, subjects(env.topo).keyRevoked].map((s) => env.nc.subscribe(s, { callback: (_e, m) => seen.push(m.json<KeyChangedEvent>().keyId) }));
    await env.nc.flush();
    const fresh = await issueKey(env.a, await newOwner("fresh"));
    // A later change, made behind the service's back: any poll that reads it reads the new key's row too (committed before).
    const other = await issueKey(env.a, await newOwner("later"));
    await env.sql`update keys.api_keys set status = 'REVOKED', revoked_at = now(), changed_at = now() where id = ${other.keyId}`;
    await waitFor(() => seen.includes(other.keyId), 5_000, "the later change re-announced");
    expect(seen).not.toContain(fresh.keyId);
    for (const s of subs) s.unsubscribe();
  });
});
