import { check, parseJson } from "@riskinmind/contracts";
import type { Logger } from "@riskinmind/runtime";
import type { Msg, NatsConnection, NatsError, Subscription } from "nats";
import type { CurrentKeyCache } from "./current-cache";

/**
 * keys.events.owner-changed, with no queue group: every replica must drop
 * the owner's cached `GET /api/v1/keys/` answer when any replica changed it.
 */
export function subscribeOwnerChanges(deps: { nc: NatsConnection; subject: string; current: CurrentKeyCache; log: Logger }): Subscription {
  return deps.nc.subscribe(deps.subject, {
    callback: (err: NatsError | null, msg: Msg) => {
      if (err) return;
      const ev = parseJson(msg.data);
      if (!check.ownerKeyChanged.Check(ev)) return void deps.log.warn("ignored a malformed owner-changed event");
      deps.current.drop(ev.ownerId);
    },
  });
}
