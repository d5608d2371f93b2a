import pino, { type Logger } from "pino";

export type { Logger };

/**
 * JSON-lines logger. Redaction is a second line of defence: the code never
 * hands a key, token or secret to the logger in the first place.
 */
export function createLogger(service: string, level: string = "info", destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // `err` is already errFields' { name, message, code? }: keep that shape (pino's default
      // serializer would recast it with a type and a stack); a raw Error still gets the same shape.
      serializers: { err: (e: unknown) => (e instanceof Error ? errFields(e).err : e) },
      redact: {
        paths: ["apiKey", "*.apiKey", "token", "*.token", "authorization", "*.authorization", "headers", "*.headers", "secret", "*.secret", "password", "*.password"],
        censor: "[redacted]",
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** Anything shaped like an API key or a JWT, for text that may quote a request. */
const SECRETISH = /sk_[A-Za-z0-9]+_[A-Za-z0-9]+|eyJ[\w-]*\.[\w.-]*/g;

/** `text` with every key- or JWT-shaped run replaced: for paths and messages that reach a log or a body. */
export function redactSecrets(text: string): string {
  return text.replace(SECRETISH, "[redacted]");
}

/**
 * The one shape of an error in a log line, `{ err: { name, message, code? } }`:
 * spread it into the line's fields (`log.warn({ ...errFields(e), keyId }, "...")`).
 * Only name, message and a driver's error code travel (never the object, whose
 * properties may hold a query's parameters), the message scrubbed of anything
 * shaped like a key or a token.
 */
export function errFields(e: unknown): { err: { name: string; message: string; code?: string } } {
  const err = e as { name?: unknown; message?: unknown; code?: unknown } | null | undefined;
  const name = typeof err?.name === "string" ? err.name : "Error";
  const message = redactSecrets(String(err?.message ?? e)).slice(0, 500);
  const code = typeof err?.code === "string" || typeof err?.code === "number" ? String(err.code) : undefined;
  return { err: code === undefined ? { name, message } : { name, message, code } };
}
