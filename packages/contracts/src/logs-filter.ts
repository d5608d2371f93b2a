/**
 * Filters and cursors of the usage logs (`/logs`, `/logs/export`,
 * usage.logs.query): one parser shared by the keys edge (which refuses a bad
 * value before asking anyone) and the usage service (which checks again,
 * since anything may publish on the bus). A parsed filter has one canonical
 * wire form, so the cursor can be bound to it.
 */
import type { KeyMode } from "./key-format";
import { HTTP_METHODS } from "./usage";

export type HttpMethod = (typeof HTTP_METHODS)[number];

/** The filter query parameters, as text (HTTP query or NATS request fields). */
export interface LogsFilterInput {
  status?: string;
  method?: string;
  endpoint?: string;
  keyId?: string;
  from?: string;
  to?: string;
}
export const LOGS_FILTER_PARAMS = ["status", "method", "endpoint", "keyId", "from", "to"] as const;

/** A parsed, normalised filter: every field absent means "any". */
export interface LogsFilter {
  /** Status codes (100..599), sorted, distinct; a class such as 5xx is expanded to its 100 codes. */
  statuses?: number[];
  /** Classes named (1..5), sorted: kept for the canonical form only. */
  statusClasses?: number[];
  methods?: HttpMethod[];
  /** An exact path, or a prefix (the `*` removed). */
  endpoint?: { path: string; prefix: boolean };
  keyId?: string;
  /** Epoch ms, inclusive. */
  fromMs?: number;
  /** Epoch ms, exclusive. */
  toMs?: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; param: string; message: string };

const bad = (param: string, message: string): { ok: false; param: string; message: string } => ({ ok: false, param, message: `Invalid query parameter '${param}': ${message}` });

const MAX_LIST_ITEMS = 20;
const STATUS_ITEM = /^(?:[1-5][0-9][0-9]|[1-5]xx)$/;
/** The same characters an event's endpoint may hold (see UsageEvent), plus an optional trailing `*`. */
const ENDPOINT = /^\/[\x21-\x7e]{0,2047}$/;
const KEY_ID = /^[\x21-\x7e]{1,64}$/;
/** ISO-8601 date-time with a zone, as event timestamps are written. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const METHODS = new Set<string>(HTTP_METHODS);

function list(param: string, raw: string): Parsed<string[]> {
  const items = raw.split(",");
  if (items.length > MAX_LIST_ITEMS) return bad(param, `at most ${MAX_LIST_ITEMS} comma-separated values.`);
  if (items.some((i) => i === "")) return bad(param, "an empty value in the list.");
  return { ok: true, value: items };
}

function parseStatus(raw: string): Parsed<{ statuses: number[]; statusClasses: number[] }> {
  const items = list("status", raw);
  if (!items.ok) return items;
  const codes = new Set<number>();
  const classes = new Set<number>();
  for (const item of items.value) {
    if (!STATUS_ITEM.test(item)) return bad("status", "each value is a code 100..599 or a class 1xx..5xx (e.g. 429,5xx).");
    if (item.endsWith("xx")) classes.add(Number(item[0]));
    else codes.add(Number(item));
  }
  for (const c of classes) for (let s = c * 100; s < c * 100 + 100; s++) codes.add(s);
  return { ok: true, value: { statuses: [...codes].sort((a, b) => a - b), statusClasses: [...classes].sort() } };
}

/** True when the written calendar date and clock time exist (Date.parse rolls 2026-02-30 over to March). */
function isRealDateTime(raw: string): boolean {
  const [y, mo, d, h, mi, s] = [raw.slice(0, 4), raw.slice(5, 7), raw.slice(8, 10), raw.slice(11, 13), raw.slice(14, 16), raw.slice(17, 19)].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth && h <= 23 && mi <= 59 && s <= 59;
}

function parseTime(param: "from" | "to", raw: string): Parsed<number> {
  const t = DATE_TIME.test(raw) && isRealDateTime(raw) ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(t)) return bad(param, "an ISO-8601 date-time with a zone, e.g. 2026-01-31T00:00:00Z.");
  return { ok: true, value: t };
}

/** Parses the filter parameters; the first bad one is named in the answer. */
export function parseLogsFilter(input: LogsFilterInput): Parsed<LogsFilter> {
  const f: LogsFilter = {};
  if (input.status !== undefined) {
    const s = parseStatus(input.status);
    if (!s.ok) return s;
    f.statuses = s.value.statuses;
    f.statusClasses = s.value.statusClasses;
  }
  if (input.method !== undefined) {
    const items = list("method", input.method);
    if (!items.ok) return items;
    if (!items.value.every((m) => METHODS.has(m))) return bad("method", `each value is one of ${HTTP_METHODS.join(", ")} (uppercase).`);
    f.methods = [...new Set(items.value as HttpMethod[])].sort();
  }
  if (input.endpoint !== undefined) {
    if (!ENDPOINT.test(input.endpoint)) return bad("endpoint", "a path starting with '/' (printable ASCII, at most 2048 characters), or a prefix ending in '*'.");
    const prefix = input.endpoint.endsWith("*");
    f.endpoint = { path: prefix ? input.endpoint.slice(0, -1) : input.endpoint, prefix };
    if (f.endpoint.path === "") return bad("endpoint", "a prefix starts with '/'.");
  }
  if (input.keyId !== undefined) {
    if (!KEY_ID.test(input.keyId)) return bad("keyId", "a key id (1..64 printable ASCII characters).");
    f.keyId = input.keyId;
  }
  if (input.from !== undefined) {
    const t = parseTime("from", input.from);
    if (!t.ok) return t;
    f.fromMs = t.value;
  }
  if (input.to !== undefined) {
    const t = parseTime("to", input.to);
    if (!t.ok) return t;
    f.toMs = t.value;
  }
  if (f.fromMs !== undefined && f.toMs !== undefined && f.fromMs >= f.toMs) return bad("from", "must be before 'to' (from is inclusive, to exclusive).");
  return { ok: true, value: f };
}

/** True when the filter restricts anything. */
export function isFiltered(f: LogsFilter): boolean {
  return f.statuses !== undefined || f.methods !== undefined || f.endpoint !== undefined || f.keyId !== undefined || f.fromMs !== undefined || f.toMs !== undefined;
}

/**
 * The canonical text form of a filter (what the edge sends on the bus; parsing
 * it again gives the same filter). Only the fields that filter are present, so
 * an unfiltered request is exactly today's.
 */
export function filterToWire(f: LogsFilter): LogsFilterInput {
  const out: LogsFilterInput = {};
  if (f.statuses !== undefined) {
    const classes = new Set(f.statusClasses ?? []);
    const codes = f.statuses.filter((s) => !classes.has(Math.floor(s / 100)));
    out.status = [...codes.map(String), ...[...classes].map((c) => `${c}xx`)].join(",");
  }
  if (f.methods !== undefined) out.method = f.methods.join(",");
  if (f.endpoint !== undefined) out.endpoint = f.endpoint.path + (f.endpoint.prefix ? "*" : "");
  if (f.keyId !== undefined) out.keyId = f.keyId;
  if (f.fromMs !== undefined) out.from = new Date(f.fromMs).toISOString();
  if (f.toMs !== undefined) out.to = new Date(f.toMs).toISOString();
  return out;
}

/**
 * Which (mode, filter) a cursor was made for: 64 bits of FNV-1a over the
 * canonical form. Not a secret and not a signature: a cursor only names a
 * position in the caller's own log (the owner always comes from the JWT), so
 * forging one gains nothing; the fingerprint is there to catch a cursor reused
 * with other filters, which would otherwise silently skip or repeat rows.
 */
function fingerprint(mode: KeyMode, f: LogsFilter): string {
  const text = JSON.stringify([mode, filterToWire(f)]);
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 + 2 * 0x100) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

const CURSOR_TEXT = /^1\.([1-9][0-9]{0,15})\.([0-9a-f]{16})$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,200}$/;

/** An opaque cursor (base64url) naming the position after the row numbered `seq`, bound to this mode and filter. */
export function encodeCursor(seq: number, mode: KeyMode, f: LogsFilter): string {
  return Buffer.from(`1.${seq}.${fingerprint(mode, f)}`).toString("base64url");
}

/**
 * The seq a cursor continues below, or why it is refused: not one of ours,
 * altered, or made for another mode or other filters. Never throws.
 */
export function decodeCursor(cursor: string, mode: KeyMode, f: LogsFilter): Parsed<number> {
  const invalid = bad("cursor", "not a cursor this API issued; start again without one.");
  if (!BASE64URL.test(cursor)) return invalid;
  const text = Buffer.from(cursor, "base64url").toString("latin1");
  const m = CURSOR_TEXT.exec(text);
  // Re-encoding must give the same string: no second spelling of one cursor.
  if (!m || Buffer.from(text, "latin1").toString("base64url") !== cursor) return invalid;
  const seq = Number(m[1]);
  if (!Number.isSafeInteger(seq)) return invalid;
  if (m[2] !== fingerprint(mode, f)) return bad("cursor", "it was made for other filters or another mode; send the same filters, or start again without a cursor.");
  return { ok: true, value: seq };
}
