import { ms, num } from "./format";
import { Scroll } from "./scroll";
import type { UsageRow } from "./types";

export interface Bucket {
  at: number;
  ok: number;
  client: number;
  server: number;
  p95: number | null;
}

/** Every bucket of [from, to), zero where the server had no row (it answers only buckets with calls). */
export function buckets(rows: UsageRow[], from: string, to: string, step: number): Bucket[] {
  const byAt = new Map(rows.map((r) => [Date.parse(r.bucket), r]));
  const out: Bucket[] = [];
  for (let at = Date.parse(from); at < Date.parse(to); at += step) {
    const r = byAt.get(at);
    out.push(r ? { at, ok: r.count - r.clientErrors - r.serverErrors, client: r.clientErrors, server: r.serverErrors, p95: r.p95Ms } : { at, ok: 0, client: 0, server: 0, p95: null });
  }
  return out;
}

const W = 640;
const H = 220;
const PAD = { l: 40, r: 48, t: 12, b: 24 };

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least `v`. */
const nice = (v: number) => {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
};

/**
 * Stacked bars (2xx and other successes, 4xx, 5xx) per bucket and the p95
 * latency as a line on its own axis, drawn as plain SVG: no chart library.
 * Each bar group carries its numbers in a <title> (hover) and data-* (tests);
 * the same numbers are in the table below the chart for screen readers.
 */
export function UsageChart({ data, label, hourly }: { data: Bucket[]; label: string; hourly: boolean }) {
  const maxCalls = nice(Math.max(0, ...data.map((b) => b.ok + b.client + b.server)));
  const maxP95 = nice(Math.max(0, ...data.map((b) => b.p95 ?? 0)));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = iw / Math.max(1, data.length);
  const yl = (v: number) => PAD.t + ih - (v / maxP95) * ih;
  const tick = (at: number) => (hourly ? new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : new Date(at).toLocaleDateString([], { month: "short", day: "numeric" }));
  const every = Math.max(1, Math.ceil(data.length / 6));
  const line = data
    .map((b, i) => (b.p95 === null ? null : `${(PAD.l + i * bw + bw / 2).toFixed(1)},${yl(b.p95).toFixed(1)}`))
    .filter(Boolean)
    .join(" ");
  const total = data.reduce((s, b) => s + b.ok + b.client + b.server, 0);
  return (
    <figure class="chart">
      <Scroll label="Calls chart" atEnd>
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${num(total)} calls in the range`} id="usage-chart">
          <line class="axis" x1={PAD.l} x2={W - PAD.r} y1={PAD.t + ih} y2={PAD.t + ih} />
          <text class="tick" x={PAD.l - 4} y={PAD.t + 8} text-anchor="end">
            {num(maxCalls)}
          </text>
          <text class="tick" x={PAD.l - 4} y={PAD.t + ih} text-anchor="end">
            0
          </text>
          {line && (
            <text class="tick p95" x={W - PAD.r + 4} y={PAD.t + 8}>
              {maxP95} ms
            </text>
          )}
          {data.map((b, i) => {
            const x = PAD.l + i * bw + bw * 0.1;
            const w = bw * 0.8;
            let top = PAD.t + ih;
            const seg = (v: number, cls: string) => {
              if (v <= 0) return null;
              const h = (v / maxCalls) * ih;
              top -= h;
              return <rect class={cls} x={x} y={top} width={w} height={h} />;
            };
            const calls = b.ok + b.client + b.server;
            return (
              <g key={b.at} class="bucket" data-at={new Date(b.at).toISOString()} data-count={calls} data-ok={b.ok} data-client={b.client} data-server={b.server}>
                <title>{`${new Date(b.at).toLocaleString()}: ${num(calls)} calls (2xx ${b.ok}, 4xx ${b.client}, 5xx ${b.server}), p95 ${ms(b.p95)}`}</title>
                {seg(b.ok, "s2xx")}
                {seg(b.client, "s4xx")}
                {seg(b.server, "s5xx")}
                {i % every === 0 && (
                  <text class="tick" x={PAD.l + i * bw + bw / 2} y={H - 6} text-anchor="middle">
                    {tick(b.at)}
                  </text>
                )}
              </g>
            );
          })}
          {line && <polyline class="p95line" points={line} fill="none" />}
          {data.map((b, i) => (b.p95 === null ? null : <circle key={b.at} class="p95dot" cx={PAD.l + i * bw + bw / 2} cy={yl(b.p95)} r={3} />))}
        </svg>
      </Scroll>
      <figcaption class="legend">
        <span class="key s2xx" aria-hidden="true" /> 2xx <span class="key s4xx" aria-hidden="true" /> 4xx <span class="key s5xx" aria-hidden="true" /> 5xx{" "}
        <span class="key p95line" aria-hidden="true" /> p95 latency (right axis)
      </figcaption>
    </figure>
  );
}
