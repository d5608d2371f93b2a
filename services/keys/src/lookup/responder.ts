import { check, NATS_ENDPOINT, parseJson } from "@riskinmind/contracts";
import { errFields, isDbUnavailable, jsonAnswer, type EndpointSpec, type JsonAnswer, type Logger, type Sql } from "@riskinmind/runtime";
import { lookupKeys } from "./repo";

const INVALID = jsonAnswer({ ok: false, code: "VALIDATION_ERROR", message: "Invalid lookup: expected {keyIds: string[1..1000]}." });
const DB_DOWN = jsonAnswer({ ok: false, code: "DATABASE_UNAVAILABLE", message: "The keys database is unavailable; retry shortly." });
const INTERNAL = jsonAnswer({ ok: false, code: "INTERNAL", message: "Internal error." });

/**
 * keys.lookup: who owns these key ids, and in which mode? The usage service
 * asks so that a recorded call is attributed to the key's real owner and
 * filed under the key's real mode, never what a publisher wrote into the event. Revoked keys are answered too: a call made
 * just before a revocation is still its owner's. A key id that matches no key
 * is simply absent from `keys` (a normal answer); a bad request, an
 * unreachable database or a bug is a service error with the same body as ever.
 */
export function keyLookupEndpoint(deps: { sql: Sql; log: Logger; subject: string }): EndpointSpec<JsonAnswer> {
  const { sql, log } = deps;
  return {
    name: NATS_ENDPOINT.keyLookup,
    subject: deps.subject,
    handle(data) {
      const req = parseJson(data);
      if (!check.keyLookupRequest.Check(req)) return INVALID;
      return lookup(req.keyIds);
    },
    failed: INTERNAL,
    errorOf: (a) => a.error,
  };

  async function lookup(keyIds: string[]): Promise<JsonAnswer> {
    try {
      const rows = await lookupKeys(sql, keyIds);
      return jsonAnswer({ ok: true, keys: rows.map((r) => ({ keyId: r.id, ownerId: r.owner_id, mode: r.mode })) });
    } catch (e) {
      if (isDbUnavailable(e)) return DB_DOWN;
      log.error({ ...errFields(e) }, "key lookup failed");
      return INTERNAL;
    }
  }
}
