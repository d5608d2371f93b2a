import { Elysia, t } from "elysia";
import { AppError, CurrentKeyResponse, GenerateBody, RegenerateBody, GenerateResponse, REGENERATED_MESSAGE, REVOKED_MESSAGE, RegenerateResponse, RevokeResponse } from "@riskinmind/contracts";
import { jwtAuth, type Authenticator } from "../auth/jwt";
import { BEARER, errorResponses, inline } from "../docs";
import type { RateLimiter } from "../ratelimit";
import { currentKey, type CurrentDeps } from "./current";
import { generateKey } from "./generate";
import type { KeyVerbDeps } from "./issue";
import { regenerateKey } from "./regenerate";
import { revokeKey } from "./revoke";

// Elysia lets JSON `null` and any non-object JSON (42, true, "x", []) through an
// optional object body: a body, when sent, must be a JSON object.
const objectBody = <T extends object>(body: T | null | undefined): T | undefined => {
  if (body === null || (body !== undefined && (typeof body !== "object" || Array.isArray(body)))) {
    throw new AppError("VALIDATION_ERROR", "Invalid body: a body, when sent, must be a JSON object.");
  }
  return body;
};
const labelOf = (body: { label?: string | null } | null | undefined): string | null => objectBody(body)?.label ?? null;
/** /revoke takes no fields: nothing but an empty body or `{}`. */
const RevokeBody = t.Object({}, { additionalProperties: false });

export interface KeyRoutesDeps extends KeyVerbDeps, CurrentDeps {
  auth: Authenticator;
  /** Mutations per owner (RATE_LIMIT_PER_MINUTE). */
  limiter: RateLimiter;
  /** Reads per owner (READ_RATE_LIMIT_PER_MINUTE), shared with /logs. */
  readLimiter: RateLimiter;
}

/** The four key-management routes: authenticate, validate, call a verb, shape the answer. */
export function keyRoutes(deps: KeyRoutesDeps) {
  const current = async ({ ownerId }: { ownerId: string }) => {
    deps.readLimiter.take(ownerId);
    return { success: true as const, data: await currentKey(deps, { ownerId }) };
  };
  const currentDoc = {
    response: { 200: inline(CurrentKeyResponse), ...errorResponses(401, 404, 429, 503) },
    detail: { summary: "Retrieve the active API key", tags: ["keys"], security: BEARER },
  };
  return new Elysia({ prefix: "/api/v1/keys" })
    .use(jwtAuth(deps.auth))
    .get("/", current, currentDoc)
    .get("", current, { ...currentDoc, detail: { ...currentDoc.detail, summary: "Retrieve the active API key (no trailing slash)" } })
    .post(
      "/generate",
      async ({ ownerId, body, status }) => {
        deps.limiter.take(ownerId);
        return status(201, { success: true as const, data: await generateKey(deps, { ownerId, label: labelOf(body) }) });
      },
      {
        body: t.Optional(inline(GenerateBody)),
        response: { 201: inline(GenerateResponse), ...errorResponses(400, 401, 408, 409, 413, 415, 429, 503) },
        detail: { summary: "Generate the owner's API key (one active key per owner)", tags: ["keys"], security: BEARER },
      },
    )
    .post(
      "/regenerate",
      async ({ ownerId, body }) => {
        deps.limiter.take(ownerId);
        const data = await regenerateKey(deps, { ownerId, label: labelOf(body) });
        return { success: true as const, data: { ...data, message: REGENERATED_MESSAGE } };
      },
      {
        body: t.Optional(inline(RegenerateBody)),
        response: { 200: inline(RegenerateResponse), ...errorResponses(400, 401, 408, 413, 415, 429, 503) },
        detail: { summary: "Revoke the active key and issue a new one, atomically", tags: ["keys"], security: BEARER },
      },
    )
    .post(
      "/revoke",
      async ({ ownerId, body }) => {
        objectBody(body);
        deps.limiter.take(ownerId);
        await revokeKey(deps, { ownerId });
        return { success: true as const, message: REVOKED_MESSAGE };
      },
      {
        body: t.Optional(RevokeBody),
        response: { 200: inline(RevokeResponse), ...errorResponses(400, 401, 404, 408, 413, 415, 429, 503) },
        detail: { summary: "Revoke the active API key", tags: ["keys"], security: BEARER },
      },
    );
}
