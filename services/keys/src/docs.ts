import { ErrorEnvelope } from "@riskinmind/contracts";

/** `{ 401: ErrorEnvelope, ... }` for a route's documented error statuses. */
export function errorResponses<const S extends number>(...statuses: S[]): Record<S, typeof ErrorEnvelope> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorEnvelope])) as Record<S, typeof ErrorEnvelope>;
}

/** The OpenAPI security requirement of every /api/v1/keys route. */
export const BEARER = [{ bearerAuth: [] as string[] }];
