/** Sequential GET /api/v1/keys/logs timings with the answer checked. */
import type { Ctx } from "./context";
import { median, timeEach } from "./stats";

export interface LogsProbe {
  medianMs: number;
  page: number;
}

/**
 * Median latency of `n` sequential requests for one page, after a few
 * unmeasured ones. Throws when the page or its `total` is wrong, so a fast
 * but wrong answer never becomes a number in the table.
 */
export async function probeLogs(ctx: Ctx, jwt: string, page: number, expectTotal: number, n: number): Promise<LogsProbe> {
  const url = `${ctx.keys.url}/api/v1/keys/logs?page=${page}&limit=10`;
  const headers = { authorization: `Bearer ${jwt}` };
  const expectRows = Math.max(0, Math.min(10, expectTotal - (page - 1) * 10));
  const once = async () => {
    const res = await fetch(url, { headers });
    const body = (await res.json()) as { success: boolean; data?: unknown[]; meta?: { total: number } };
    if (res.status !== 200 || body.meta?.total !== expectTotal || body.data?.length !== expectRows) {
      throw new Error(`logs page ${page}: status ${res.status}, total ${body.meta?.total} (want ${expectTotal}), rows ${body.data?.length} (want ${expectRows})`);
    }
  };
  for (let i = 0; i < 10; i++) await once();
  return { medianMs: median(await timeEach(n, once)), page };
}

/** The last page of `total` rows, 10 a page. */
export function lastPage(total: number): number {
  return Math.max(1, Math.ceil(total / 10));
}
