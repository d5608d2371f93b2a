/** Sequential GET /api/v1/keys/logs timings with every answer checked. */
import type { Ctx } from "./context";
import { median } from "./stats";

export interface LogsProbe {
  /** Median over every measured request, failed ones included (a failure is not fast). */
  medianMs: number;
  page: number;
  /** Slowest request, warm-up included: the first reads after a bulk load show here. */
  maxMs: number;
  /** Requests whose status, `total` or row count was wrong. */
  failures: number;
  firstFailure: string | null;
}

/**
 * Median latency of `n` sequential requests for one page, after a few
 * unmeasured ones. A wrong page or `total`, or a non-200, is counted and
 * described, so a fast but wrong answer never passes as a good number.
 */
export async function probeLogs(ctx: Ctx, jwt: string, page: number, expectTotal: number, n: number): Promise<LogsProbe> {
  const url = `${ctx.keys.url}/api/v1/keys/logs?page=${page}&limit=10`;
  const headers = { authorization: `Bearer ${jwt}` };
  const expectRows = Math.max(0, Math.min(10, expectTotal - (page - 1) * 10));
  let failures = 0;
  let maxMs = 0;
  let firstFailure: string | null = null;
  const once = async (): Promise<number> => {
    const t = performance.now();
    const res = await fetch(url, { headers });
    const body = (await res.json().catch(() => ({}))) as { data?: unknown[]; meta?: { total: number }; error?: { code: string } };
    const ms = performance.now() - t;
    if (ms > maxMs) maxMs = ms;
    if (res.status !== 200 || body.meta?.total !== expectTotal || body.data?.length !== expectRows) {
      failures++;
      firstFailure ??= `status ${res.status}${body.error ? ` ${body.error.code}` : ""}, total ${body.meta?.total} (want ${expectTotal}), rows ${body.data?.length} (want ${expectRows}), ${ms.toFixed(0)} ms`;
    }
    return ms;
  };
  for (let i = 0; i < 10; i++) await once();
  const warmFailures = failures;
  failures = 0;
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await once());
  if (warmFailures) ctx.log(`logs page ${page}: ${warmFailures} of 10 warm-up requests failed (${firstFailure})`);
  return { medianMs: median(times), page, maxMs, failures, firstFailure };
}

/** The last page of `total` rows, 10 a page. */
export function lastPage(total: number): number {
  return Math.max(1, Math.ceil(total / 10));
}
