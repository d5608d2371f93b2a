import type { RequestMeta } from "./record";

/** A User-Agent is the client's to choose: stored up to this many characters. */
export const USER_AGENT_MAX = 512;

/** The part of an Elysia route context this reads (httpBasics derives the request id and sets it as x-request-id). */
export interface RequestCtx {
  request: Request;
  set: { headers: unknown };
  server: { requestIP(request: Request): { address: string } | null } | null;
}

/**
 * Where a change came from, for its audit entry: the TCP peer (not a
 * forwarded-for header, which the client writes), the User-Agent cut to
 * USER_AGENT_MAX, and the request id the answer carries (x-request-id).
 */
export function requestMeta({ request, set, server }: RequestCtx): RequestMeta {
  const requestId = (set.headers as Record<string, string | undefined>)["x-request-id"] ?? null;
  const ua = request.headers.get("user-agent");
  return { ip: server?.requestIP(request)?.address ?? null, userAgent: ua === null ? null : ua.slice(0, USER_AGENT_MAX), requestId };
}
