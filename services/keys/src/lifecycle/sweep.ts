/**
 * The lifecycle sweep: the changes of a key that no request makes (its
 * expiry passing, its rotation grace ending, its slot's quota usage reaching
 * 80 % and 100 %) get their audit entry and key event like any other change.
 *
 * Every replica runs it; a round-wide transaction-level advisory lock lets
 * one replica at a time do a round (the others skip theirs). Each change is
 * recorded in a transaction of its own that holds the owner's lock (the audit
 * chain needs it), re-checks that the change is still unrecorded, and sets
 * the marker beside the entry: a crash before the commit leaves the change
 * for the next round, a commit leaves nothing to record twice, whether or not
 * the round lock held. Nothing here changes what verification answers (an
 * expired key is refused by its expires_at, a rotated-out key by its
 * grace_until), so no cache is told.
 */
import type { Actor } from "@riskinmind/contracts";
import { errFields, isDbUnavailable, type Logger, type Sql } from "@riskinmind/runtime";
import { recordChange } from "../audit/record";
import { lockOwner } from "../keys/repo";
import { claimExpiry, claimGraceEnd, claimQuota, dueExpiries, dueGraceEnds, dueQuotas, slotKeyId, type DueQuota } from "./repo";

/** The outbox publisher's wake-up call (OutboxNudge in audit/record.ts): publish what was just committed. */
export interface Nudge {
  nudge(): void;
}

export const LIFECYCLE_ACTOR: Actor = { type: "system", id: "lifecycle" };
export const QUOTA_ACTOR: Actor = { type: "system", id: "quota" };

/** Changes read per kind per round: a backlog (a restart after an outage) drains over a few rounds, and a round's transactions stay short. */
export const SWEEP_BATCH = 200;

export interface SweepDeps {
  sql: Sql;
  log: Logger;
  outbox: Nudge;
  batch?: number;
}

export interface SweepResult {
  /** False when another replica held the round lock. */
  ran: boolean;
  expired: number;
  graceEnded: number;
  quota: number;
  /** Changes whose transaction failed this round (logged; due again next round). */
  failed: number;
}

const ROUND_LOCK = "keys:lifecycle";

/** One round: reads what is due under the round lock, records each change in its own transaction. */
export async function sweepRound(deps: SweepDeps): Promise<SweepResult> {
  const batch = deps.batch ?? SWEEP_BATCH;
  const result: SweepResult = { ran: false, expired: 0, graceEnded: 0, quota: 0, failed: 0 };
  let firstError: unknown;
  // One change that fails (a broken row, a lost connection) must not stop the others.
  const attempt = async <T>(step: () => Promise<T>, none: T): Promise<T> => {
    try {
      return await step();
    } catch (err) {
      result.failed++;
      firstError ??= err;
      return none;
    }
  };
  // The round transaction holds the lock (and one connection) while the
  // records run on others: a crashed replica's lock goes with its connection.
  await deps.sql.begin(async (round) => {
    const [lock] = await round<{ got: boolean }[]>`select pg_try_advisory_xact_lock(hashtext(${ROUND_LOCK})) as got`;
    if (!lock?.got) return;
    result.ran = true;
    for (const k of await dueExpiries(round, batch)) if (await attempt(() => recordExpiry(deps, k.owner_id, k.id), false)) result.expired++;
    for (const k of await dueGraceEnds(round, batch)) if (await attempt(() => recordGraceEnd(deps, k.owner_id, k.id), false)) result.graceEnded++;
    for (const q of await dueQuotas(round, batch)) result.quota += await attempt(() => recordQuota(deps, q), 0);
  });
  if (result.failed > 0 && !isDbUnavailable(firstError)) deps.log.warn({ failed: result.failed, ...errFields(firstError) }, "lifecycle changes not recorded this round");
  return result;
}

/** Records one key's expiry, if still due; true when this call recorded it. */
export async function recordExpiry(deps: SweepDeps, ownerId: string, keyId: string): Promise<boolean> {
  const done = await deps.sql.begin(async (tx) => {
    await lockOwner(tx, ownerId);
    const k = await claimExpiry(tx, keyId);
    if (!k) return false;
    await recordChange(tx, { ownerId, keyId, mode: k.mode, action: "key.expired", actor: LIFECYCLE_ACTOR, changes: { expiresAt: k.expires_at.toISOString() } });
    return true;
  });
  if (done) deps.outbox.nudge();
  return done;
}

/** Records the end of one key's grace, if still due; true when this call recorded it. */
export async function recordGraceEnd(deps: SweepDeps, ownerId: string, keyId: string): Promise<boolean> {
  const done = await deps.sql.begin(async (tx) => {
    await lockOwner(tx, ownerId);
    const k = await claimGraceEnd(tx, keyId);
    if (!k) return false;
    await recordChange(tx, { ownerId, keyId, mode: k.mode, action: "key.grace_ended", actor: LIFECYCLE_ACTOR, changes: { graceUntil: k.ended.toISOString() } });
    return true;
  });
  if (done) deps.outbox.nudge();
  return done;
}

const THRESHOLD_ACTIONS = [undefined, "key.quota_warning", "key.quota_exhausted"] as const;

/** Records each threshold the period's usage passed since the last record (both, when one report jumped past 100 %); returns how many. */
export async function recordQuota(deps: SweepDeps, q: DueQuota): Promise<number> {
  const n = await deps.sql.begin(async (tx) => {
    await lockOwner(tx, q.owner_id);
    const c = await claimQuota(tx, q);
    if (!c) return 0;
    const keyId = await slotKeyId(tx, q.owner_id, q.mode);
    // No key was ever in this slot (rows made by hand): nothing to name, the marker still moves.
    if (keyId === undefined) return 0;
    const changes = { period: q.period, periodStart: new Date(Number(q.start_ms)).toISOString(), limit: c.lim, used: c.used };
    let recorded = 0;
    for (let level = c.from + 1; level <= c.to; level++) {
      const action = THRESHOLD_ACTIONS[level];
      if (action === undefined) continue;
      await recordChange(tx, { ownerId: q.owner_id, keyId, mode: q.mode, action, actor: QUOTA_ACTOR, changes });
      recorded++;
    }
    return recorded;
  });
  if (n > 0) deps.outbox.nudge();
  return n;
}

/**
 * Runs a round every `intervalMs` (0: never) until stop(); a round still
 * running makes the next tick skip. A failed round (Postgres down) is logged
 * and the next one tries again: nothing due is lost, it is only late.
 */
export function startLifecycle(deps: SweepDeps & { intervalMs: number }): { stop(): Promise<void> } {
  if (deps.intervalMs <= 0) return { stop: async () => {} };
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = sweepRound(deps)
      .then(() => undefined)
      // Postgres down is the outage's own news (a line a second would bury it); anything else is ours.
      .catch((err) => (isDbUnavailable(err) ? deps.log.debug({ ...errFields(err) }, "lifecycle sweep: database unavailable") : deps.log.warn({ ...errFields(err) }, "lifecycle sweep failed")))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, deps.intervalMs);
  timer.unref?.();
  tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
