import { check, NATS_ENDPOINT, parseJson, type LimitsFailure, type LimitsTakeReply, type LimitsTakeRequest } from "@riskinmind/contracts";
import { errFields, isDbUnavailable, type EndpointSpec, type Logger, type ServiceErrorInfo, type Sql } from "@riskinmind/runtime";
import { sweepLimits, takeUnits, type Draw } from "./repo";
import { Periods } from "./windows";

export interface LimitsAnswer {
  reply: Uint8Array;
  error?: ServiceErrorInfo;
}

const encoder = new TextEncoder();
const failure = (code: LimitsFailure, message: string, error?: ServiceErrorInfo): LimitsAnswer => ({
  reply: encoder.encode(JSON.stringify({ ok: false, code, message } satisfies LimitsTakeReply)),
  ...(error ? { error } : {}),
});

// KEY_REFUSED is an answer, not a service fault (as keys.verify's KEY_REVOKED).
const REFUSED = failure("KEY_REFUSED", "No usable key has this hash.");
const INVALID = failure("VALIDATION_ERROR", "Invalid take: expected {keyHash, rate?: {want, start?, release?, used?}, quota?: {...}}.", { code: 400, description: "VALIDATION_ERROR" });
const DB_DOWN = failure("DATABASE_UNAVAILABLE", "The keys database is unavailable; retry shortly.", { code: 503, description: "DATABASE_UNAVAILABLE" });
const INTERNAL = failure("INTERNAL", "Internal error.", { code: 500, description: "INTERNAL" });

const SWEEP_EVERY_MS = 60_000;
const NONE: Draw = { want: 0, start: -1, release: 0, used: 0 };

function drawOf(d: LimitsTakeRequest["rate"]): Draw {
  if (d === undefined) return NONE;
  return { want: d.want, start: d.start ?? -1, release: d.release ?? 0, used: d.used ?? 0 };
}

export interface LimitsDeps {
  sql: Sql;
  log: Logger;
  subject: string;
  /** The clock (tests move it across windows and periods). */
  now?: () => number;
}

/**
 * keys.limits.take: guards lease rate-limit and quota units by key hash
 * (repo.ts holds the one statement). Every request is answered: a lease, a
 * KEY_REFUSED for a hash of no usable key, or a service error for a bad
 * request (400), a database outage (503) or a bug (500). Once a minute a take
 * also clears counters nobody reads any more, so the service needs no timer.
 */
export function limitsTakeEndpoint(deps: LimitsDeps): EndpointSpec<LimitsAnswer> {
  const { sql, log } = deps;
  const clock = deps.now ?? Date.now;
  const periods = new Periods();
  let lastSweep = clock();

  return {
    name: NATS_ENDPOINT.limitsTake,
    subject: deps.subject,
    handle(data) {
      const req = parseJson(data);
      if (!check.limitsTakeRequest.Check(req)) return INVALID;
      return take(req);
    },
    failed: INTERNAL,
    errorOf: (a) => a.error,
  };

  async function take(req: LimitsTakeRequest): Promise<LimitsAnswer> {
    const now = clock();
    try {
      if (now - lastSweep >= SWEEP_EVERY_MS) {
        lastSweep = now;
        await sweepLimits(sql, now).catch((e) => log.warn({ ...errFields(e) }, "limits sweep failed"));
      }
      const row = await takeUnits(sql, Buffer.from(req.keyHash, "hex"), drawOf(req.rate), drawOf(req.quota), now, periods.at(now));
      if (row === undefined || !row.usable) return REFUSED;
      const body: LimitsTakeReply = { ok: true, now, ...(row.rate ? { rate: row.rate } : {}), ...(row.quota ? { quota: row.quota } : {}) };
      return { reply: encoder.encode(JSON.stringify(body)) };
    } catch (e) {
      if (isDbUnavailable(e)) return DB_DOWN;
      log.error({ ...errFields(e) }, "limits take failed");
      return INTERNAL;
    }
  }
}
