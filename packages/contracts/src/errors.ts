import { Type, type Static } from "@sinclair/typebox";

/**
 * The closed list of error codes any RiskInMind API answers with. A code is
 * stable forever: clients branch on it, humans read the message.
 */
export const ERROR_STATUS = {
  UNAUTHORIZED: 401,
  INVALID_API_KEY: 401,
  FORBIDDEN: 403,
  VALIDATION_ERROR: 400,
  MALFORMED_JSON: 400,
  KEY_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  ACTIVE_KEY_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  DATABASE_UNAVAILABLE: 503,
  USAGE_UNAVAILABLE: 503,
  VERIFY_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** HTTP status for an error code: the one table both transports use. */
export function codeToStatus(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

export const ErrorEnvelope = Type.Object(
  {
    success: Type.Literal(false),
    error: Type.Object({
      code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
      message: Type.String(),
    }),
  },
  { $id: "ErrorEnvelope", description: "Every non-2xx answer has this shape." },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;

/** Builds the error envelope body. */
export function errorBody(code: ErrorCode, message: string): ErrorEnvelope {
  return { success: false, error: { code, message } };
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
  toBody(): ErrorEnvelope {
    return errorBody(this.code, this.message);
  }
}
