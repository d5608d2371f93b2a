/**
 * A and B measured in alternating short rounds instead of one long run each:
 * on a machine shared with other work a burst of outside load then hits both
 * sides alike, and the ratio stays meaningful.
 */
export interface LoadSummary {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpuShare: number;
}

export async function alternate<T>(rounds: number, a: () => Promise<T>, b: () => Promise<T>): Promise<[T[], T[]]> {
  const as: T[] = [];
  const bs: T[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await a());
    bs.push(await b());
  }
  return [as, bs];
}

function med(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Rounds into one result: mean throughput, median of the rounds' percentiles, all errors. */
export function combine<T extends LoadSummary>(rs: T[]): T {
  return {
    ...rs[0]!,
    rps: rs.reduce((s, r) => s + r.rps, 0) / rs.length,
    p50: med(rs.map((r) => r.p50)),
    p99: med(rs.map((r) => r.p99)),
    errors: rs.reduce((s, r) => s + r.errors, 0),
    cpuShare: rs.reduce((s, r) => s + r.cpuShare, 0) / rs.length,
  };
}
