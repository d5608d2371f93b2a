import { check, parseJson, QUEUE, type Subjects } from "@riskinmind/contracts";
import { errFields, type Logger } from "@riskinmind/runtime";
import type { Msg, NatsConnection, NatsError, Subscription } from "nats";
import type { VerifyMetric } from "./metrics";
import { REFUSED, verifyKey, type VerifyAnswer, type VerifyDeps } from "./verify";
import type { VerifyResult } from "./cache";

export interface ResponderDeps extends VerifyDeps {
  nc: NatsConnection;
  subjects: Pick<Subjects, "verify">;
  metrics: Record<VerifyResult, VerifyMetric>;
}

/**
 * keys.verify (queue group: replicas share the load). A callback subscription
 * rather than an async iterator: a cache hit is answered in the same tick.
 * A verify request carries the key's SHA-256, never the key: anything that is
 * not `{keyHash: <64 lowercase hex>}` is answered MALFORMED.
 */
export function serveVerify(deps: ResponderDeps): Subscription {
  const { nc, log, metrics } = deps;
  const answer = (msg: Msg, a: VerifyAnswer, started: number) => {
    msg.respond(a.reply);
    const m = metrics[a.result];
    m.count.inc();
    m.duration.observe((performance.now() - started) / 1000);
  };
  return nc.subscribe(deps.subjects.verify, {
    queue: QUEUE.keys,
    callback: (err: NatsError | null, msg: Msg) => {
      if (err) return void log.warn({ ...errFields(err) }, "verify subscription error");
      const started = performance.now();
      try {
        // Parse and schema check, no hand-written fast path: measured, a byte
        // scan of the 78-byte request was no cheaper than JSON.parse + Check.
        const req = parseJson(msg.data);
        if (!check.verifyRequest.Check(req)) return answer(msg, REFUSED.MALFORMED, started);
        const out = verifyKey(deps, { keyHash: req.keyHash });
        if (!(out instanceof Promise)) return answer(msg, out, started);
        out.then(
          (a) => answer(msg, a, started),
          () => answer(msg, REFUSED.VERIFY_UNAVAILABLE, started),
        );
      } catch (e) {
        // A request always gets a reply, even when something unexpected broke.
        log.error({ ...errFields(e) }, "verify failed");
        answer(msg, REFUSED.VERIFY_UNAVAILABLE, started);
      }
    },
  });
}
