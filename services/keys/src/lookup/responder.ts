import { check, parseJson, QUEUE, type KeyLookupReply } from "@riskinmind/contracts";
import { isDbUnavailable, type Logger, type Sql, errFields } from "@riskinmind/runtime";
import type { Msg, NatsConnection, Subscription } from "nats";
import { ownersOf } from "../keys/repo";

const encoder = new TextEncoder();

/**
 * keys.lookup (queue group `keys`): who owns these key ids? The usage service
 * asks so that a recorded call is attributed to the key's real owner, never to
 * the owner a publisher wrote into the event. Revoked keys are answered too: a
 * call made just before a revocation is still its owner's. Every request with
 * a reply subject gets exactly one reply.
 */
export function serveKeyLookups(deps: { nc: NatsConnection; sql: Sql; log: Logger; subject: string }): Subscription {
  const { nc, sql, log, subject } = deps;
  return nc.subscribe(subject, {
    queue: QUEUE.keys,
    callback: (err, msg) => {
      if (err) return void log.warn({ ...errFields(err) }, "lookup subscription error");
      void answer(msg);
    },
  });

  async function answer(msg: Msg): Promise<void> {
    if (!msg.reply) return;
    let reply: KeyLookupReply;
    const req = parseJson(msg.data);
    if (!check.keyLookupRequest.Check(req)) {
      reply = { ok: false, code: "VALIDATION_ERROR", message: "Invalid lookup: expected {keyIds: string[1..1000]}." };
    } else {
      try {
        const rows = await ownersOf(sql, req.keyIds);
        reply = { ok: true, keys: rows.map((r) => ({ keyId: r.id, ownerId: r.owner_id })) };
      } catch (e) {
        if (isDbUnavailable(e)) {
          reply = { ok: false, code: "DATABASE_UNAVAILABLE", message: "The keys database is unavailable; retry shortly." };
        } else {
          log.error({ ...errFields(e) }, "key lookup failed");
          reply = { ok: false, code: "INTERNAL", message: "Internal error." };
        }
      }
    }
    try {
      msg.respond(encoder.encode(JSON.stringify(reply)));
    } catch (e) {
      log.warn({ ...errFields(e) }, "lookup reply failed");
    }
  }
}
