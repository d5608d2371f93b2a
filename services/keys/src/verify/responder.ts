import { check, NATS_ENDPOINT, parseJson, type Subjects } from "@riskinmind/contracts";
import type { EndpointSpec, ServiceErrorInfo } from "@riskinmind/runtime";
import type { VerifyResult } from "./cache";
import type { VerifyMetric } from "./metrics";
import { REFUSED, verifyKey, type VerifyAnswer, type VerifyDeps } from "./verify";

export interface ResponderDeps extends VerifyDeps {
  subjects: Pick<Subjects, "verify">;
  metrics: Record<VerifyResult, VerifyMetric>;
}

/**
 * Which answers are standard service errors. KEY_NOT_FOUND and KEY_REVOKED are
 * not: the lookup succeeded and its result is "no" (a caller presenting a
 * revoked key is not a fault of this service). MALFORMED is the requester's
 * fault, VERIFY_UNAVAILABLE means Postgres could not decide.
 */
const ERRORS: Partial<Record<VerifyResult, ServiceErrorInfo>> = {
  MALFORMED: { code: 400, description: "MALFORMED" },
  VERIFY_UNAVAILABLE: { code: 503, description: "VERIFY_UNAVAILABLE" },
};

/**
 * keys.verify. A cache hit is answered in the same tick it arrived (no
 * promise on that path). A verify request carries the key's SHA-256, never
 * the key: anything that is not `{keyHash: <64 lowercase hex>}` is answered
 * MALFORMED.
 */
export function verifyEndpoint(deps: ResponderDeps): EndpointSpec<VerifyAnswer> {
  const { metrics } = deps;
  return {
    name: NATS_ENDPOINT.verify,
    subject: deps.subjects.verify,
    handle(data) {
      // Parse and schema check, no hand-written fast path: measured, a byte
      // scan of the 78-byte request was no cheaper than JSON.parse + Check.
      const req = parseJson(data);
      if (!check.verifyRequest.Check(req)) return REFUSED.MALFORMED;
      return verifyKey(deps, { keyHash: req.keyHash });
    },
    // Something unexpected broke: the guard answers 503, not 401.
    failed: REFUSED.VERIFY_UNAVAILABLE,
    errorOf: (a) => ERRORS[a.result],
    answered(a, started) {
      const m = metrics[a.result];
      m.count.inc();
      m.duration.observe((performance.now() - started) / 1000);
    },
  };
}
