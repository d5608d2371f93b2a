import { ALL_EVENTS, AppError, DEFAULT_MODE, WEBHOOK_LIMITS, type CreateWebhookBody, type CreatedWebhook, type KeyMode, type WebhookView } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { newId } from "../keys/mint";
import { withDb } from "../keys/repo";
import { newSigningSecret, type SecretBox } from "./secret-box";
import { checkTargetUrl } from "./url-policy";

export interface EndpointDeps {
  sql: Sql;
  box: SecretBox;
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS */
  allowPrivate: boolean;
}

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  mode: KeyMode;
  description: string | null;
  created_at: Date;
}

const view = (r: EndpointRow): WebhookView => ({
  id: r.id,
  url: r.url,
  events: r.events,
  description: r.description,
  mode: r.mode,
  createdAt: r.created_at.toISOString(),
});

const notFound = () => new AppError("NOT_FOUND", "No such webhook endpoint.");

/**
 * Registers an endpoint and answers with its signing secret, the only time
 * the secret leaves the service. `["*"]` stands alone (all types, present and
 * future); the count per owner is checked under the owner's webhook lock, so
 * concurrent registrations cannot pass the limit together.
 */
export async function createWebhook(deps: EndpointDeps, input: { ownerId: string; body: CreateWebhookBody }): Promise<CreatedWebhook> {
  const { body } = input;
  const target = checkTargetUrl(body.url, deps.allowPrivate);
  if (!target.ok) throw new AppError("VALIDATION_ERROR", `Invalid body: ${target.reason}.`);
  if (body.events.includes(ALL_EVENTS) && body.events.length > 1) {
    throw new AppError("VALIDATION_ERROR", 'Invalid body: events: "*" (every type) stands alone.');
  }
  const id = newId("wh");
  const secret = newSigningSecret();
  const sealed = deps.box.seal(id, secret.bytes);
  secret.bytes.fill(0);
  const row = await withDb(() =>
    deps.sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${`keys:webhooks:${input.ownerId}`}))`;
      const [{ n }] = (await tx`select count(*)::int as n from keys.webhook_endpoints where owner_id = ${input.ownerId} and deleted_at is null`) as unknown as [{ n: number }];
      if (n >= WEBHOOK_LIMITS.endpointsPerOwner) {
        throw new AppError("VALIDATION_ERROR", `Too many webhook endpoints: at most ${WEBHOOK_LIMITS.endpointsPerOwner} per owner; delete one first.`);
      }
      const [r] = await tx<EndpointRow[]>`
        insert into keys.webhook_endpoints (id, owner_id, url, events, mode, description, secret_enc)
        values (${id}, ${input.ownerId}, ${target.url}, ${body.events}, ${body.mode ?? DEFAULT_MODE}, ${body.description ?? null}, ${sealed})
        returning id, url, events, mode, description, created_at`;
      return r!;
    }),
  );
  return { ...view(row), secret: secret.text };
}

/** The owner's endpoints, oldest first, without secrets. */
export async function listWebhooks(deps: Pick<EndpointDeps, "sql">, ownerId: string): Promise<WebhookView[]> {
  const rows = await withDb(
    () => deps.sql<EndpointRow[]>`
      select id, url, events, mode, description, created_at from keys.webhook_endpoints
      where owner_id = ${ownerId} and deleted_at is null order by created_at, id`,
  );
  return rows.map(view);
}

/**
 * Deletes (soft) one of the owner's endpoints; its pending deliveries fail
 * at once, so nothing more is sent to it. Another owner's id is 404 like an
 * unknown one: ids are not confirmed to strangers.
 */
export async function deleteWebhook(deps: Pick<EndpointDeps, "sql">, input: { ownerId: string; id: string }): Promise<void> {
  const deleted = await withDb(() =>
    deps.sql.begin(async (tx) => {
      const rows = await tx`
        update keys.webhook_endpoints set deleted_at = now()
        where id = ${input.id} and owner_id = ${input.ownerId} and deleted_at is null returning id`;
      if (rows.length === 0) return false;
      await tx`update keys.webhook_deliveries set status = 'failed', next_attempt_at = null, lease = null where endpoint_id = ${input.id} and status = 'pending'`;
      return true;
    }),
  );
  if (!deleted) throw notFound();
}

/** The owner's live endpoint, or 404. */
export async function ownedEndpoint(sql: Sql, ownerId: string, id: string): Promise<void> {
  const rows = await withDb(() => sql`select 1 from keys.webhook_endpoints where id = ${id} and owner_id = ${ownerId} and deleted_at is null`);
  if (rows.length === 0) throw notFound();
}
