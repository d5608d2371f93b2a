import { Elysia } from "elysia";
import {
  CreateWebhookBody,
  CreateWebhookResponse,
  DeleteWebhookResponse,
  DeliveriesQuery,
  DeliveriesResponse,
  WEBHOOK_DELETED_MESSAGE,
  WebhookIdParams,
  WebhookListResponse,
} from "@riskinmind/contracts";
import { jwtAuth, type Authenticator } from "../auth/jwt";
import { BEARER, errorResponses, inline } from "../docs";
import type { RateLimiter } from "../ratelimit";
import { listDeliveries } from "./deliveries-view";
import { createWebhook, deleteWebhook, listWebhooks, type EndpointDeps } from "./endpoints";

export interface WebhookRoutesDeps extends EndpointDeps {
  auth: Authenticator;
  /** Registrations and deletions per owner. */
  limiter: RateLimiter;
  /** Reads per owner, shared with the other GET routes. */
  readLimiter: RateLimiter;
}

const tags = ["webhooks"];
const params = inline(WebhookIdParams);

/**
 * /api/v1/keys/webhooks: register, list and delete endpoints; read an
 * endpoint's deliveries. No routes (404) when webhooks are off (no box).
 */
export function webhookRoutes(deps: Omit<WebhookRoutesDeps, "box"> & { box: EndpointDeps["box"] | undefined }) {
  const { box } = deps;
  if (box === undefined) return new Elysia({ name: "webhooks-off" });
  return routes({ ...deps, box });
}

function routes(deps: WebhookRoutesDeps) {
  return new Elysia({ prefix: "/api/v1/keys/webhooks" })
    .use(jwtAuth(deps.auth))
    .post(
      "",
      async ({ ownerId, body, status }) => {
        deps.limiter.take(ownerId);
        return status(201, { success: true as const, data: await createWebhook(deps, { ownerId, body }) });
      },
      {
        body: inline(CreateWebhookBody),
        response: { 201: inline(CreateWebhookResponse), ...errorResponses(400, 401, 408, 413, 415, 429, 503) },
        detail: { summary: "Register a webhook endpoint; the answer holds its signing secret, shown once", tags, security: BEARER },
      },
    )
    .get(
      "",
      async ({ ownerId }) => {
        deps.readLimiter.take(ownerId);
        return { success: true as const, data: await listWebhooks(deps, ownerId) };
      },
      {
        response: { 200: inline(WebhookListResponse), ...errorResponses(401, 429, 503) },
        detail: { summary: "List the owner's webhook endpoints (never their secrets)", tags, security: BEARER },
      },
    )
    .delete(
      "/:id",
      async ({ ownerId, params }) => {
        deps.limiter.take(ownerId);
        await deleteWebhook(deps, { ownerId, id: params.id });
        return { success: true as const, message: WEBHOOK_DELETED_MESSAGE };
      },
      {
        params,
        response: { 200: inline(DeleteWebhookResponse), ...errorResponses(400, 401, 404, 429, 503) },
        detail: { summary: "Delete a webhook endpoint; its pending deliveries stop", tags, security: BEARER },
      },
    )
    .get(
      "/:id/deliveries",
      async ({ ownerId, params, query }) => {
        deps.readLimiter.take(ownerId);
        return { success: true as const, ...(await listDeliveries(deps.sql, { ownerId, id: params.id, ...query })) };
      },
      {
        params,
        query: inline(DeliveriesQuery),
        response: { 200: inline(DeliveriesResponse), ...errorResponses(400, 401, 404, 429, 503) },
        detail: { summary: "An endpoint's deliveries, newest first, with every attempt", tags, security: BEARER },
      },
    );
}
