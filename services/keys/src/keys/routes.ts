import { Elysia, t } from "elysia";
import {
  AppError,
  CurrentKeyResponse,
  DEFAULT_MODE,
  GenerateBody,
  GenerateResponse,
  ModeQuery,
  PatchBody,
  REGENERATED_MESSAGE,
  REVOKED_MESSAGE,
  RegenerateBody,
  RegenerateResponse,
  RevokeResponse,
  type GenerateBody as GenerateInput,
  type KeyMode,
  type RegenerateBody as RegenerateInput,
} from "@riskinmind/contracts";
import { requestMeta, type RequestCtx } from "../audit/request-meta";
import { jwtAuth, type Authenticator } from "../auth/jwt";
import { BEARER, errorResponses, inline } from "../docs";
import type { RateLimiter } from "../ratelimit";
import { currentKey, type CurrentDeps } from "./current";
import { generateKey } from "./generate";
import type { KeyVerbDeps } from "./issue";
import { patchKey } from "./patch";
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

/** The policy fields of a generate/regenerate body (label and grace apart). */
const policyOf = ({ label: _l, gracePeriodSeconds: _g, ...policy }: RegenerateInput = {}) => policy;
const modeOf = (query: { mode?: KeyMode }): KeyMode => query.mode ?? DEFAULT_MODE;

/** /revoke takes no fields: nothing but an empty body or `{}`. */
const RevokeBody = t.Object({}, { additionalProperties: false });
const query = inline(ModeQuery);

export interface KeyRoutesDeps extends KeyVerbDeps, CurrentDeps {
  auth: Authenticator;
  /** Mutations per owner (RATE_LIMIT_PER_MINUTE). */
  limiter: RateLimiter;
  /** Reads per owner (READ_RATE_LIMIT_PER_MINUTE), shared with /logs. */
  readLimiter: RateLimiter;
}

/**
 * The key-management routes: authenticate, validate, call a verb, shape the
 * answer. Every route acts on one key slot: `?mode=live` (the default) or
 * `?mode=test`, an owner's two independent keys.
 */
export function keyRoutes(deps: KeyRoutesDeps) {
  const current = async ({ ownerId, query }: { ownerId: string; query: { mode?: KeyMode } }) => {
    deps.readLimiter.take(ownerId);
    return { success: true as const, data: await currentKey(deps, { ownerId, mode: modeOf(query) }) };
  };
  const currentDoc = {
    query,
    response: { 200: inline(CurrentKeyResponse), ...errorResponses(400, 401, 404, 429, 503) },
    detail: { summary: "Retrieve the active API key", tags: ["keys"], security: BEARER },
  };
  const patch = async (ctx: { ownerId: string; query: { mode?: KeyMode }; body: PatchBody | null | undefined } & RequestCtx) => {
    const { ownerId, query, body } = ctx;
    const fields = objectBody(body) ?? {};
    deps.limiter.take(ownerId);
    return { success: true as const, data: await patchKey(deps, { ownerId, mode: modeOf(query), body: fields, request: requestMeta(ctx) }) };
  };
  const patchDoc = {
    query,
    body: t.Optional(inline(PatchBody)),
    response: { 200: inline(CurrentKeyResponse), ...errorResponses(400, 401, 404, 408, 413, 415, 429, 503) },
    detail: { summary: "Change the active key's policies (null clears one); answers like GET", tags: ["keys"], security: BEARER },
  };
  return new Elysia({ prefix: "/api/v1/keys" })
    .use(jwtAuth(deps.auth))
    .get("/", current, currentDoc)
    .get("", current, { ...currentDoc, detail: { ...currentDoc.detail, summary: "Retrieve the active API key (no trailing slash)" } })
    .patch("/", patch, patchDoc)
    .patch("", patch, { ...patchDoc, detail: { ...patchDoc.detail, summary: "Change the active key's policies (no trailing slash)" } })
    .post(
      "/generate",
      async (ctx) => {
        const { ownerId, query, body, status } = ctx;
        const fields: GenerateInput = objectBody(body) ?? {};
        deps.limiter.take(ownerId);
        const data = await generateKey(deps, { ownerId, mode: modeOf(query), label: fields.label ?? null, policy: policyOf(fields), request: requestMeta(ctx) });
        return status(201, { success: true as const, data });
      },
      {
        query,
        body: t.Optional(inline(GenerateBody)),
        response: { 201: inline(GenerateResponse), ...errorResponses(400, 401, 408, 409, 413, 415, 429, 503) },
        detail: { summary: "Generate the owner's API key (one active key per owner and mode)", tags: ["keys"], security: BEARER },
      },
    )
    .post(
      "/regenerate",
      async (ctx) => {
        const { ownerId, query, body } = ctx;
        const fields: RegenerateInput = objectBody(body) ?? {};
        deps.limiter.take(ownerId);
        const data = await regenerateKey(deps, {
          ownerId,
          request: requestMeta(ctx),
          mode: modeOf(query),
          label: fields.label ?? null,
          policy: policyOf(fields),
          graceS: fields.gracePeriodSeconds ?? 0,
        });
        return { success: true as const, data: { ...data, message: REGENERATED_MESSAGE } };
      },
      {
        query,
        body: t.Optional(inline(RegenerateBody)),
        response: { 200: inline(RegenerateResponse), ...errorResponses(400, 401, 408, 413, 415, 429, 503) },
        detail: { summary: "Replace the active key, atomically; the old one may keep working for a grace period", tags: ["keys"], security: BEARER },
      },
    )
    .post(
      "/revoke",
      async (ctx) => {
        const { ownerId, query, body } = ctx;
        objectBody(body);
        deps.limiter.take(ownerId);
        await revokeKey(deps, { ownerId, mode: modeOf(query), request: requestMeta(ctx) });
        return { success: true as const, message: REVOKED_MESSAGE };
      },
      {
        query,
        body: t.Optional(RevokeBody),
        response: { 200: inline(RevokeResponse), ...errorResponses(400, 401, 404, 408, 413, 415, 429, 503) },
        detail: { summary: "Revoke the active API key (and end a previous key's grace period)", tags: ["keys"], security: BEARER },
      },
    );
}
