/** Loggers for in-process services under test: silent by default, or capturing lines for assertions on what is logged. */
import { createLogger, type Logger } from "@riskinmind/runtime";

export const silentLog = createLogger("test", "silent");

/** A logger whose JSON lines land in `lines`. */
export function captureLogger(service = "usage"): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger(service, "info", { write: (s: string) => void lines.push(s) });
  return { log, lines };
}
