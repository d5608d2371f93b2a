/**
 * The benchmark's output: one row per measurement with its baseline from the
 * same run, the ratio, and (where the issue sets one) the target and verdict.
 */
export interface Row {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  target: string | null;
  met: boolean | null;
}

/** A target on the ratio to the baseline or on the value itself. */
export type Target = { on: "ratio"; op: ">=" | "<="; limit: number } | { on: "value"; op: ">=" | "<=" | "<"; limit: number };

export function row(name: string, value: number, unit: string, baseline: number | null = null, target: Target | null = null): Row {
  const ratio = baseline !== null && baseline !== 0 && Number.isFinite(baseline) ? value / baseline : null;
  let met: boolean | null = null;
  let text: string | null = null;
  if (target) {
    const x = target.on === "ratio" ? ratio : value;
    text = target.on === "ratio" ? `${target.op} ${target.limit}x` : `${target.op} ${target.limit} ${unit}`;
    met = x === null || !Number.isFinite(x) ? false : target.op === ">=" ? x >= target.limit : target.op === "<=" ? x <= target.limit : x < target.limit;
  }
  return { name, value: round(value), unit, baseline: baseline === null ? null : round(baseline), ratio: ratio === null ? null : round(ratio, 3), target: text, met };
}

/** A row for something that could not be measured (the reason goes in the name). */
export function failedRow(name: string, unit: string, target: Target | null = null): Row {
  const r = row(name, NaN, unit, null, target);
  return { ...r, value: NaN, met: target ? false : null };
}

function round(x: number, digits?: number): number {
  if (!Number.isFinite(x)) return x;
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 1 ? 2 : 4);
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function fmt(x: number | null): string {
  if (x === null) return "";
  if (!Number.isFinite(x)) return "n/a";
  return Math.abs(x) >= 1000 ? Math.round(x).toLocaleString("en-US") : String(x);
}

/** The markdown table the README quotes. */
export function markdown(rows: Row[]): string {
  const lines = ["| name | value | baseline | ratio | target | met |", "|---|---|---|---|---|---|"];
  for (const r of rows) {
    const met = r.met === null ? "" : r.met ? "yes" : "**no**";
    const base = r.baseline === null ? "" : `${fmt(r.baseline)} ${r.unit}`;
    const ratio = r.ratio === null ? "" : `${fmt(r.ratio)}x`;
    lines.push(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${base} | ${ratio} | ${r.target ?? ""} | ${met} |`);
  }
  return lines.join("\n");
}

/** One JSON array on one line; NaN (unmeasured) becomes null. */
export function jsonLine(rows: Row[]): string {
  return JSON.stringify(rows.map((r) => ({ ...r, value: Number.isFinite(r.value) ? r.value : null })));
}

/** 10000 → "10k", 1000000 → "1M". */
export function count(x: number): string {
  return x >= 1e6 ? `${x / 1e6}M` : x >= 1e3 ? `${x / 1e3}k` : String(x);
}
