import { check, MAX_LOOKUP_KEYS, parseJson, type KeyLookupRequest, type KeyMode } from "@riskinmind/contracts";
import { LRUCache } from "lru-cache";
import type { NatsConnection } from "nats";

/** The keys service did not give a usable answer: the batch waits, it is not refused. */
export class KeysUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`key owners unavailable: ${reason}`);
  }
}

/**
 * "Unknown key" is remembered only this long. keys commits a key before it
 * answers generate, so a fresh key is visible at once; the short memory only
 * spares the keys service a lookup per batch while forged ids stream in.
 */
export const UNKNOWN_TTL_MS = 2_000;

const encoder = new TextEncoder();

/** What attribution needs of a key: who owns it and which mode it is. */
export interface KeyFacts {
  ownerId: string;
  mode: KeyMode;
}

/**
 * Who really owns a key id and in which mode, asked of the keys service over
 * `keys.lookup` and cached: neither ever changes once a key is issued (the
 * mode is the key's prefix), so entries live until pushed out by the count
 * bound (least recently used first, so the keys that keep calling stay).
 */
export class OwnerResolver {
  private readonly owners: LRUCache<string, KeyFacts>;
  /** Key id → until when it counts as unknown. */
  private readonly unknown: LRUCache<string, number>;

  constructor(private readonly deps: { nc: NatsConnection; subject: string; timeoutMs: number; max: number }) {
    this.owners = new LRUCache({ max: deps.max });
    this.unknown = new LRUCache({ max: deps.max });
  }

  /**
   * The owner and mode of each key id (null: no such key). Cache misses cost one
   * request per MAX_LOOKUP_KEYS ids, sent together. Throws KeysUnavailable
   * when the keys service cannot answer.
   */
  async resolve(keyIds: Iterable<string>): Promise<Map<string, KeyFacts | null>> {
    const out = new Map<string, KeyFacts | null>();
    const misses: string[] = [];
    const now = Date.now();
    for (const id of keyIds) {
      if (out.has(id)) continue;
      const owner = this.owners.get(id);
      if (owner !== undefined) out.set(id, owner);
      else if ((this.unknown.get(id) ?? 0) > now) out.set(id, null);
      else {
        out.set(id, null);
        misses.push(id);
      }
    }
    if (misses.length === 0) return out;
    const chunks: string[][] = [];
    for (let i = 0; i < misses.length; i += MAX_LOOKUP_KEYS) chunks.push(misses.slice(i, i + MAX_LOOKUP_KEYS));
    const answers = await Promise.all(chunks.map((c) => this.ask(c)));
    const until = Date.now() + UNKNOWN_TTL_MS;
    for (const found of answers) for (const [id, facts] of found) out.set(id, facts);
    for (const id of misses) {
      if (out.get(id) !== null) continue;
      this.unknown.set(id, until);
    }
    return out;
  }

  private async ask(keyIds: string[]): Promise<Map<string, KeyFacts>> {
    let data: Uint8Array;
    try {
      const req: KeyLookupRequest = { keyIds };
      const msg = await this.deps.nc.request(this.deps.subject, encoder.encode(JSON.stringify(req)), { timeout: this.deps.timeoutMs });
      data = msg.data;
    } catch (err) {
      // timeout, no responders, connection closed: the keys service is not there now
      throw new KeysUnavailable((err as { code?: string }).code ?? (err as Error).message);
    }
    const reply = parseJson(data);
    if (!check.keyLookupReply.Check(reply)) throw new KeysUnavailable("malformed reply");
    if (!reply.ok) throw new KeysUnavailable(reply.code);
    const found = new Map<string, KeyFacts>();
    for (const k of reply.keys) {
      const facts: KeyFacts = { ownerId: k.ownerId, mode: k.mode ?? "live" };
      found.set(k.keyId, facts);
      this.unknown.delete(k.keyId);
      // A keys replica that predates modes answers without one. During a
      // rolling upgrade it reads the same table yet cannot tell a test key
      // from a live one, so its answer is used (as live) for this batch only
      // and asked again next time, until an upgraded replica answers.
      if (k.mode !== undefined) this.owners.set(k.keyId, facts);
    }
    return found;
  }
}
