import type { CompiledPolicy } from "./policy";

/**
 * The part of a pino logger the guard uses; any pino Logger fits. Kept
 * structural so the guard does not depend on the runtime package.
 */
export interface GuardLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface GuardOptions {
  /** How long a valid answer is trusted without asking again (revocations still cut it short). */
  cacheTtlMs: number;
  /** Most keys kept in the verification cache. */
  cacheMax: number;
  /** How long to wait for keys.verify before answering 503. */
  verifyTimeoutMs: number;
  /** Longest time a usage event waits in memory before it is published. */
  flushIntervalMs: number;
  /** Events per JetStream message (capped by MAX_EVENTS_PER_MESSAGE). */
  flushMaxEvents: number;
  /** Most events kept while JetStream is unreachable; beyond it the oldest are dropped. */
  bufferMax: number;
  /**
   * Addresses or CIDRs of your own reverse proxies. Empty (the default):
   * X-Forwarded-For is ignored and the caller is the socket's peer. Set: when
   * the peer is one of them, the caller is the right-most X-Forwarded-For
   * address that is not itself a listed proxy.
   */
  trustedProxies: string[];
}

export const DEFAULT_GUARD_OPTIONS: GuardOptions = {
  cacheTtlMs: 30_000,
  cacheMax: 10_000,
  verifyTimeoutMs: 1_000,
  flushIntervalMs: 5,
  flushMaxEvents: 200,
  bufferMax: 100_000,
  trustedProxies: [],
};

/** Why a key was refused, for the message and for tests; never contains the key. */
export type RefusalReason = "missing" | "malformed" | "unknown" | "revoked" | "expired" | "unavailable";

export type GuardResult =
  | { ok: true; keyId: string; ownerId: string; cached: boolean; policy: CompiledPolicy }
  | { ok: false; code: "INVALID_API_KEY" | "KEY_EXPIRED" | "VERIFY_UNAVAILABLE"; reason: RefusalReason; message: string };
