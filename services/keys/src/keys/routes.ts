import { Elysia, t } from "elysia";
import { AppError, CurrentKeyResponse, GenerateBody, GenerateResponse, REGENERATED_MESSAGE, REVOKED_MESSAGE, RegenerateResponse, RevokeResponse } from "@riskinmind/contracts";
import { jwtAuth } from "../auth/jwt";
import type { TokenCache } from "../auth/token-cache";
import { BEARER, errorResponses, inline } from "../docs";
import type { RateLimiter } from "../ratelimit";
import { currentKey, type CurrentDeps } from "./current";
import { generateKey } from "./generate";
import type { KeyVerbDeps } from "./issue";
import { regenerateKey } from "./regenerate";
import { revokeKey } from "./revoke";

// t.Optional lets a JSON `null` through as "no body"; a body, when sent, must be an object.
const labelOf = (body: { label?: string } | null | undefined): string | null => {
  // Elysia lets any non-object JSON (42, true, "x", []) through an optional object body: refuse it here.
  if (body === null || (body !== undefined && (typeof body !== "object" || Array.isArray(body)))) throw new AppError("VALIDATION_ERROR", "Invalid body: expected a JSON object or no body.");
  return body?.label ?? null;
};

export interface KeyRoutesDeps extends KeyVerbDeps, CurrentDeps {
  jwtSecret: string;
  /** Verified JWTs, shared with the other routes of this app. */
  tokens: TokenCache;
  limiter: RateLimiter;
}

/** The four key-management routes: authenticate, validate, call a verb, shape the answer. */
export function keyRoutes(deps: KeyRoutesDeps) {
  const current = async ({ ownerId }: { ownerId: string }) => ({ success: true as const, data: await currentKey(deps, ownerId) });
  const currentDoc = {
    response: { 200: inline(CurrentKeyResponse), ...errorResponses(401, 404, 503) },
    detail: { summary: "Retrieve the active API key", tags: ["keys"], security: BEARER },
  };
  return new Elysia({ prefix: "/api/v1/keys" })
    .use(jwtAuth(deps.jwtSecret, deps.tokens))
    .get("/", current, currentDoc)
    .get("", current, { ...currentDoc, detail: { ...currentDoc.detail, summary: "Retrieve the active API key (no trailing slash)" } })
    .post(
      "/generate",
      async ({ ownerId, body, status }) => {
        deps.limiter.take(ownerId);
        return status(201, { success: true as const, data: await generateKey(deps, ownerId, labelOf(body)) });
      },
      {
        body: t.Optional(inline(GenerateBody)),
        response: { 201: inline(GenerateResponse), ...errorResponses(400, 401, 409, 413, 415, 429, 503) },
        detail: { summary: "Generate the owner's API key (one active key per owner)", tags: ["keys"], security: BEARER },
      },
    )
    .post(
      "/regenerate",
      async ({ ownerId, body }) => {
        deps.limiter.take(ownerId);
        const data = await regenerateKey(deps, ownerId, labelOf(body));
        return { success: true as const, data: { ...data, message: REGENERATED_MESSAGE } };
      },
      {
        body: t.Optional(inline(GenerateBody)),
        response: { 200: inline(RegenerateResponse), ...errorResponses(400, 401, 413, 415, 429, 503) },
        detail: { summary: "Revoke the active key and issue a new one, atomically", tags: ["keys"], security: BEARER },
      },
    )
    .post(
      "/revoke",
      async ({ ownerId }) => {
        deps.limiter.take(ownerId);
        await revokeKey(deps, ownerId);
        return { success: true as const, message: REVOKED_MESSAGE };
      },
      {
        response: { 200: inline(RevokeResponse), ...errorResponses(401, 404, 429, 503) },
        detail: { summary: "Revoke the active API key", tags: ["keys"], security: BEARER },
      },
    );
}
