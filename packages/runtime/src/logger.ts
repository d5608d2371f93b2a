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
      redact: {
        paths: ["apiKey", "*.apiKey", "token", "*.token", "authorization", "*.authorization", "headers", "*.headers", "secret", "*.secret", "password", "*.password"],
        censor: "[redacted]",
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
