import postgres, { type Sql } from "postgres";

export type { Sql };

/** True for errors that mean "the database is unreachable", not "your query is wrong". */
export function isDbUnavailable(err: unknown): boolean {
  const e = err as { code?: string; errno?: string } | null;
  const code = e?.code ?? e?.errno ?? "";
  return (
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "57P01", "57P02", "57P03", "53300"].includes(
      code,
    ) || code.startsWith("08")
  );
}

/** A postgres.js pool with short connect timeouts, so an outage fails fast. */
export function createSql(url: string, opts: { max?: number; connectTimeoutS?: number; name?: string } = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    connect_timeout: opts.connectTimeoutS ?? 2,
    // postgres.js's default backoff grows to 20 s and queued queries wait it out: an outage must fail fast (503), not hang.
    backoff: () => 0.1,
    idle_timeout: 30,
    prepare: true,
    onnotice: () => {},
    connection: { application_name: opts.name ?? "riskinmind" },
  });
}
