import { CloneType, type TSchema } from "@sinclair/typebox";
import { ErrorEnvelope } from "@riskinmind/contracts";

/**
 * A contract schema minus its `$id`: the OpenAPI generator inlines schemas,
 * and one `$id` appearing at several places makes the document invalid.
 */
export function inline<T extends TSchema>(schema: T): T {
  const copy = CloneType(schema);
  delete copy.$id;
  return copy;
}

const Envelope = inline(ErrorEnvelope);

/** `{ 401: ErrorEnvelope, ... }` for a route's documented error statuses. */
export function errorResponses<const S extends number>(...statuses: S[]): Record<S, typeof ErrorEnvelope> {
  return Object.fromEntries(statuses.map((s) => [s, Envelope])) as Record<S, typeof ErrorEnvelope>;
}

/** The OpenAPI security requirement of every /api/v1/keys route. */
export const BEARER = [{ bearerAuth: [] as string[] }];
