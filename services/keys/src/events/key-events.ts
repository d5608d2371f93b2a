import { check, parseJson, type KeyChangedEvent, type KeyRevokedEvent, type OwnerKeyChangedEvent, type Subjects } from "@riskinmind/contracts";
import { watchNatsStatus, withTimeout, type Logger, type NatsStatusWatcher, type Sql, errFields } from "@riskinmind/runtime";
import type { Msg, NatsConnection, NatsError, Subscription } from "nats";
import type { CurrentKeyCache } from "../keys/current-cache";
import type { ChangedRow, KeyRow, RevokedRow } from "../keys/repo";
import { hashToCacheKey, type VerifyCache } from "../verify/cache";
import { pollChanges } from "./change-poll";

const FLUSH_TIMEOUT_MS = 2_000;
const encoder = new TextEncoder();

/** What the mutating verbs need from the events: announce a committed change. */
export interface KeyChanges {
  /**
   * Called after a transaction that changed the owner's active key committed,
   * before the answer returns: drops cached answers here and on every replica.
   * `revoked` are the keys it ended or put in a grace period (they must be verified again).
   */
  changed(ownerId: string, revoked: RevokedRow[]): Promise<void>;
  /** Called after a committed PATCH: every cache drops the key's verdict, every replica the owner's view. */
  policyChanged(row: Pick<KeyRow, "id" | "owner_id" | "key_hash">): Promise<void>;
}

export interface KeyEventsDeps {
  nc: NatsConnection;
  sql: Sql;
  log: Logger;
  subjects: Pick<Subjects, "keyRevoked" | "keyChanged" | "ownerKeyChanged">;
  /** The verification cache and the `GET /api/v1/keys/` cache these events invalidate. */
  cache: VerifyCache;
  current: CurrentKeyCache;
  /** REVOCATION_POLL_MS; 0 disables the poll. */
  pollMs: number;
}

/** The wire form of a revocation, built here only. */
export function revokedEvent(row: RevokedRow): KeyRevokedEvent {
  return { keyId: row.id, keyHash: row.key_hash.toString("hex"), ownerId: row.owner_id, revokedAt: (row.revoked_at ?? new Date()).toISOString() };
}

/**
 * Everything about key-change events in one place: announcing a change
 * (keys.cache.revoked for the guards and the other replicas,
 * keys.cache.owner-changed for the management caches), listening to both
 * broadcasts, the revocation poll that bounds a lost broadcast, and clearing
 * both caches on a NATS reconnect (events sent while away are lost).
 */
export class KeyEvents implements KeyChanges {
  private subs: Subscription[] = [];
  private poller: { stop(): void } | null = null;
  private status: NatsStatusWatcher | null = null;

  constructor(private readonly d: KeyEventsDeps) {}

  async changed(ownerId: string, revoked: RevokedRow[]): Promise<void> {
    this.d.current.drop(ownerId);
    for (const r of revoked) this.d.cache.drop(r.id, hashToCacheKey(r.key_hash));
    await this.announce(ownerId, () => {
      for (const r of revoked) this.publishRevoked(r);
    });
  }

  async policyChanged(row: Pick<KeyRow, "id" | "owner_id" | "key_hash">): Promise<void> {
    this.d.current.drop(row.owner_id);
    this.d.cache.drop(row.id, hashToCacheKey(row.key_hash));
    await this.announce(row.owner_id, () => this.publishChanged(row));
  }

  /** Publishes the key events, then owner-changed, and waits until the server has them (bounded). */
  private async announce(ownerId: string, publishKeyEvents: () => void): Promise<void> {
    const { nc, subjects, log } = this.d;
    try {
      publishKeyEvents();
      nc.publish(subjects.ownerKeyChanged, encoder.encode(JSON.stringify({ ownerId } satisfies OwnerKeyChangedEvent)));
      // On the server before the caller hears the answer, so other replicas and guards drop them next.
      await withTimeout(nc.flush(), FLUSH_TIMEOUT_MS, "key event flush");
    } catch (err) {
      // The change is committed; replicas that miss the event clear their caches on reconnect, and the change poll re-announces it.
      log.warn({ ...errFields(err) }, "key change events not confirmed");
    }
  }

  /** Subscribes to both broadcasts, starts the poll and the status watcher. */
  start(): void {
    const { nc, sql, log, subjects, cache, current } = this.d;
    // No queue group on either: every replica must drop the key or the owner.
    this.subs.push(
      nc.subscribe(subjects.keyRevoked, {
        callback: (err: NatsError | null, msg: Msg) => {
          if (err) return;
          const ev = parseJson(msg.data);
          if (!check.keyRevoked.Check(ev)) return void log.warn("ignored a malformed key-revoked event");
          cache.drop(ev.keyId, ev.keyHash);
        },
      }),
      nc.subscribe(subjects.keyChanged, {
        callback: (err: NatsError | null, msg: Msg) => {
          if (err) return;
          const ev = parseJson(msg.data);
          if (!check.keyChanged.Check(ev)) return void log.warn("ignored a malformed key-changed event");
          cache.drop(ev.keyId, ev.keyHash);
          current.drop(ev.ownerId);
        },
      }),
      nc.subscribe(subjects.ownerKeyChanged, {
        callback: (err: NatsError | null, msg: Msg) => {
          if (err) return;
          const ev = parseJson(msg.data);
          if (!check.ownerKeyChanged.Check(ev)) return void log.warn("ignored a malformed owner-changed event");
          current.drop(ev.ownerId);
        },
      }),
    );
    this.poller = pollChanges({
      sql,
      log,
      intervalMs: this.d.pollMs,
      onChanged: (row: ChangedRow) => {
        current.drop(row.owner_id);
        cache.drop(row.id, hashToCacheKey(row.key_hash));
        // Re-announced for the guards, which have no database: harmless when
        // the first broadcast did arrive (dropping a key twice changes nothing).
        if (nc.isClosed()) return;
        if (row.status === "REVOKED") this.publishRevoked({ ...row, revoked_at: row.changed_at });
        else this.publishChanged(row);
      },
    });
    this.status = watchNatsStatus(nc, {
      onReconnect: () => {
        cache.clear();
        current.clear();
      },
    });
  }

  /** Stops the watcher and the poll, drains both subscriptions. */
  async stop(): Promise<void> {
    this.status?.stop();
    this.poller?.stop();
    await Promise.all(this.subs.map((s) => (s.isClosed() ? undefined : s.drain().catch(() => {}))));
    this.subs = [];
  }

  private publishRevoked(row: RevokedRow): void {
    this.d.nc.publish(this.d.subjects.keyRevoked, encoder.encode(JSON.stringify(revokedEvent(row))));
  }

  private publishChanged(row: Pick<KeyRow, "id" | "owner_id" | "key_hash">): void {
    const ev: KeyChangedEvent = { keyId: row.id, keyHash: row.key_hash.toString("hex"), ownerId: row.owner_id };
    this.d.nc.publish(this.d.subjects.keyChanged, encoder.encode(JSON.stringify(ev)));
  }
}
