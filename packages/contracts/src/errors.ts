import { Type, type Static } from "@sinclair/typebox";

/**
 * The closed list of error codes any RiskInMind API answers with, and each
 * one's HTTP status: the one table every transport maps with. A code is
 * stable forever: clients branch on it, humans read the message. Only codes
 * some path really produces belong here (the list is what OpenAPI advertises).
 */
export const ERROR_STATUS = {
  UNAUTHORIZED: 401,
  INVALID_API_KEY: 401,
  /** An expired key, or a rotated-out key past its grace period. */
  KEY_EXPIRED: 401,
  /** The caller's address is outside the key's ipAllowlist. */
  IP_NOT_ALLOWED: 403,
  /** The route needs a scope the key does not have. */
  INSUFFICIENT_SCOPE: 403,
  VALIDATION_ERROR: 400,
  MALFORMED_JSON: 400,
  KEY_NOT_FOUND: 404,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  ACTIVE_KEY_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  /** The key's quota for the period is spent (Retry-After: until it resets). */
  QUOTA_EXCEEDED: 429,
  INTERNAL: 500,
  DATABASE_UNAVAILABLE: 503,
  USAGE_UNAVAILABLE: 503,
  VERIFY_UNAVAILABLE: 503,
  /** GET /ready: a dependency the service needs (Postgres, NATS) is down; the answer names which. */
  NOT_READY: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** A well-formed `x-request-id`: short, and safe to echo into a header, a log line and a body. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** An API key (`sk_live_…`) or a JWT (`eyJ…`) fits REQUEST_ID, and an id is echoed and logged: never take one as an id. */
const SECRET_SHAPED = /sk_[A-Za-z0-9]+_|eyJ/;

/**
 * The id of a request: the caller's `x-request-id` when well-formed (so one id
 * follows a call through a caller's systems and ours), else a fresh UUID.
 */
export function requestIdFor(incoming: string | null | undefined): string {
  return incoming && REQUEST_ID.test(incoming) && !SECRET_SHAPED.test(incoming) ? incoming : crypto.randomUUID();
}

export const ErrorEnvelope = Type.Object(
  {
    success: Type.Literal(false),
    error: Type.Object({
      code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
      message: Type.String(),
      requestId: Type.String({
        description: "The request's id, the same as its `x-request-id` response header and its log line: quote it to support.",
        examples: ["0193c6a2-5f7e-7c3a-9b1d-2f4e6a8c0b1d"],
      }),
    }),
  },
  { $id: "ErrorEnvelope", description: "Every non-2xx answer has this shape." },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;

/** Builds the error envelope body; `requestId` is the one sent as `x-request-id` with it. */
export function errorBody(code: ErrorCode, message: string, requestId: string): ErrorEnvelope {
  return { success: false, error: { code, message, requestId } };
}

/**
 * An expected failure carried up to a transport, which maps it once. Services
 * return outcomes for the common cases; this is for the rare ones that must
 * unwind (database down, validation at the edge).
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
