import { check, MAX_LOOKUP_KEYS, parseJson, type KeyLookupRequest } from "@riskinmind/contracts";
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

/**
 * Who really owns a key id, asked of the keys service over `keys.lookup` and
 * cached: a key's owner never changes once it is issued, so entries live until
 * pushed out by the count bound (least recently used first, so the keys that
 * keep calling stay).
 */
export class OwnerResolver {
  private readonly owners: LRUCache<string, string>;
  /** Key id → until when it counts as unknown. */
  private readonly unknown: LRUCache<string, number>;

  constructor(private readonly deps: { nc: NatsConnection; subject: string; timeoutMs: number; max: number }) {
    this.owners = new LRUCache({ max: deps.max });
    this.unknown = new LRUCache({ max: deps.max });
  }

  /**
   * The owner of each key id (null: no such key). Cache misses cost one
   * request per MAX_LOOKUP_KEYS ids, sent together. Throws KeysUnavailable
   * when the keys service cannot answer.
   */
  async resolve(keyIds: Iterable<string>): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
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
    for (const found of answers) for (const [id, owner] of found) this.remember(id, owner), out.set(id, owner);
    for (const id of misses) {
      if (out.get(id) !== null) continue;
      this.unknown.set(id, until);
    }
    return out;
  }

  private async ask(keyIds: string[]): Promise<Map<string, string>> {
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
    const found = new Map<string, string>();
    for (const k of reply.keys) found.set(k.keyId, k.ownerId);
    return found;
  }

  private remember(id: string, owner: string): void {
    this.unknown.delete(id);
    this.owners.set(id, owner);
  }
}
