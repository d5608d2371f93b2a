import { isFiltered, type KeyMode, type LogEntry, type LogsFilter } from "@riskinmind/contracts";
import type { Sql } from "@riskinmind/runtime";
import { PACKED_EXPORT_ROW, type PackedRow } from "./export-page";
import { filteredTotal } from "./filtered-total";

/** One read of an owner's log, parsed and validated (the optional fields default to today's unfiltered read). */
export interface LogsRead {
  ownerId: string;
  /** Default live. */
  mode?: KeyMode;
  limit: number;
  /** 1-based page; ignored when `before` is set. */
  page: number;
  /** Keyset position from a cursor: only rows with a lower seq (older). */
  before?: number;
  filter?: LogsFilter;
  /** Skip the count (total -1) where it costs a read of the matching rows. */
  skipTotal?: boolean;
  /** At most about this many bytes of rows (JSON) in one answer: a bus message has a size limit. Default unbounded. */
  maxBytes?: number;
}

export interface LogsPage {
  data: LogEntry[];
  total: number;
  /** The seq the next page continues below; absent when no row is left. */
  nextBefore?: number;
}

/** A read with its defaults filled in. */
type Read = Required<Omit<LogsRead, "before">> & Pick<LogsRead, "before">;

/** One stored row as read, before it becomes an entry of a /logs page or a line of an export. */
export interface LogRow {
  seq: string;
  endpoint: string;
  method: string;
  status_code: number;
  /** Epoch ms: parsing a timestamptz into a Date cost more per row than the rest of the row. */
  ts: number;
  key_id: string;
  duration_ms: number | null;
}

const COLUMNS = "seq, endpoint, method, status_code, (extract(epoch from ts) * 1000)::float8 as ts, key_id, duration_ms";

/** What a read selects: the columns of a /logs entry, or an export's packed row read as raw bytes (export-page.ts). */
interface Shape {
  select: string;
  raw: boolean;
}
const ENTRY: Shape = { select: COLUMNS, raw: false };
const PACKED: Shape = { select: PACKED_EXPORT_ROW, raw: true };

/**
 * One page of an owner's logs in one key mode, newest (most recently
 * recorded, highest seq) first, with the exact total of what the filter
 * matches and the position the next page continues from.
 *
 * Unfiltered pages by number keep today's plan: the total is the (owner,
 * mode) counter row and the page a primary-key keyset read below a seq
 * computed from it.
 * Everything else is a keyset read (`seq < before`) or an offset over the
 * filtered rows, newest first, through the index of the filter (migration
 * 003); a filtered total is read from the rollups (filtered-total.ts).
 *
 * Statements are sent unprepared (an unnamed statement is planned with its
 * values every time): a generic plan cannot know that one owner holds a
 * fifth of the table or that `status=5xx` is rare, and a wrong guess there
 * is a scan of millions of rows.
 */
export async function readLogsPage(sql: Sql, read: LogsRead): Promise<LogsPage> {
  const q = withDefaults(read);
  const { rows, total } = await readRows(sql, q, ENTRY);
  return pageOf(rows as LogRow[], q, total, rows.length > q.limit);
}

/**
 * The rows of that page for an export, packed (export-page.ts), newest
 * first: at most `limit` + 1 (a row past the limit says more follow), no
 * total, `maxBytes` not applied. The export encodes them itself.
 */
export async function readExportRows(sql: Sql, read: LogsRead): Promise<PackedRow[]> {
  return (await readRows(sql, withDefaults({ ...read, skipTotal: true }), PACKED)).rows as PackedRow[];
}

function withDefaults(read: LogsRead): Read {
  return { mode: "live", filter: {}, skipTotal: false, maxBytes: Number.POSITIVE_INFINITY, ...read };
}

/**
 * A page with its total is two or more statements (the counter or the
 * rollups, and the rows): they run in one read-only REPEATABLE READ
 * transaction, so both come from one snapshot. On a streaming replica
 * (DATABASE_READ_URL) that is one replay point, and the total always
 * matches the rows beside it; a read without a total is one statement.
 */
async function readRows(sql: Sql, q: Read, shape: Shape): Promise<{ rows: unknown[]; total: number }> {
  if (q.skipTotal) return readRowsIn(sql, q, shape);
  return sql.begin("isolation level repeatable read read only", (tx) => readRowsIn(tx, q, shape)) as Promise<{ rows: unknown[]; total: number }>;
}

/** The pool, or the read transaction sql.begin hands its callback. */
type Db = Sql | Parameters<Parameters<Sql["begin"]>[1]>[0];

async function readRowsIn(sql: Db, q: Read, shape: Shape): Promise<{ rows: unknown[]; total: number }> {
  const filtered = isFiltered(q.filter);
  if (!filtered) return q.before === undefined ? unfilteredRows(sql, q, shape) : cursorRows(sql, q, q.before, shape);

  const where = whereOf(q);
  const params = where.params;
  const $ = (v: unknown) => `$${params.push(v)}`;
  let tail = `order by seq desc limit ${$(q.limit + 1)}::int8`;
  let rowWhere = where.text;
  if (q.before !== undefined) rowWhere += ` and seq < ${$(q.before)}::int8`;
  else if (q.page > 1) tail += ` offset ${$((q.page - 1) * q.limit)}::int8`;
  const rows = await rowsOf(sql.unsafe(`select ${shape.select} from usage.events where ${rowWhere} ${tail}`, params as never[], { prepare: false }), shape);
  const total = q.skipTotal ? -1 : filtered ? await filteredTotal(sql, q) : await counterTotal(sql, q);
  return { rows, total };
}

/**
 * An unfiltered page by number: the counter row, then the newest rows at or
 * below the page's top seq (a keyset read of the primary key, each
 * partition's index read backwards from `hi`, merged).
 *
 * The counter's total is the highest seq handed out and `dropped` the rows
 * retention removed (005_partitions.sql), so the log holds total - dropped
 * rows. Page p starts at seq total - (p-1)*limit and takes `limit` rows from
 * there down: rows missing below (dropped by retention: late events make the
 * dropped set ragged, not a clean prefix of seqs) never make a page short.
 * Where holes lie above a page's top, that page repeats rows the previous
 * page showed, and the last pages by number may end before the oldest rows;
 * a cursor walk (`before`) is exact.
 */
async function unfilteredRows(sql: Db, q: Read, shape: Shape): Promise<{ rows: unknown[]; total: number }> {
  const counter = await counterRow(sql, q);
  const total = counter.total - counter.dropped;
  const hi = counter.total - (q.page - 1) * q.limit;
  if (hi < 1 || total < 1) return { rows: [], total };
  // Two statements on purpose: with the bound as a plain value the planner
  // always picks the primary-key range scan. Joined to the counter in one
  // statement, the bound is unknown at plan time and, for an owner holding a
  // large share of the table, Postgres chose a sequential scan (seconds).
  const rows = await rowsOf(
    sql`
    select ${sql.unsafe(shape.select)} from usage.events
    where owner_id = ${q.ownerId} and mode = ${q.mode} and seq <= ${hi}::int8
    order by seq desc limit ${q.limit + 1}::int8`,
    shape,
  );
  return { rows, total };
}

/**
 * An unfiltered page after a cursor (a cursor walk, every export page): the
 * primary key read backwards from `before`, whatever its value, so the
 * statement is prepared once per connection, not planned per page as the
 * filtered ones are.
 */
async function cursorRows(sql: Db, q: Read, before: number, shape: Shape): Promise<{ rows: unknown[]; total: number }> {
  const rows = await rowsOf(
    sql`
    select ${sql.unsafe(shape.select)} from usage.events
    where owner_id = ${q.ownerId} and mode = ${q.mode} and seq < ${before}::int8
    order by seq desc limit ${q.limit + 1}::int8`,
    shape,
  );
  return { rows, total: q.skipTotal ? -1 : await counterTotal(sql, q) };
}

/** A statement's rows: objects by column name, or (raw) each row's values as bytes. */
function rowsOf(query: ReturnType<Db["unsafe"]>, shape: Shape): Promise<unknown[]> {
  return shape.raw ? query.raw() : query;
}

/** The (owner, mode) log's size: rows ever numbered minus rows retention dropped. */
async function counterTotal(sql: Db, q: Read): Promise<number> {
  const counter = await counterRow(sql, q);
  return counter.total - counter.dropped;
}

async function counterRow(sql: Db, q: Read): Promise<{ total: number; dropped: number }> {
  const [counter] = await sql<{ total: string; dropped: string }[]>`
    select total, dropped from usage.owner_counters where owner_id = ${q.ownerId} and mode = ${q.mode}`;
  return counter ? { total: Number(counter.total), dropped: Number(counter.dropped) } : { total: 0, dropped: 0 };
}

/**
 * The rows as entries, cut at `maxBytes` (a bound on their JSON size, so the
 * reply fits in one bus message whatever the endpoints' lengths). A page cut
 * short continues after its last row like any other.
 */
function pageOf(rows: LogRow[], q: Read, total: number, more: boolean): LogsPage {
  const data: LogEntry[] = [];
  let bytes = 0;
  let cut = false;
  for (const r of rows) {
    if (data.length === q.limit) break;
    // Worst case: every character of the free-text fields escaped, plus the fixed fields.
    bytes += 160 + 2 * (r.endpoint.length + r.key_id.length + r.method.length);
    if (bytes > q.maxBytes && data.length > 0) {
      cut = true;
      break;
    }
    data.push(entryOf(r));
  }
  const last = rows[data.length - 1];
  return (more || cut) && last ? { data, total, nextBefore: Number(last.seq) } : { data, total };
}

/** A stored row as the entry /logs shows (and the export writes). */
export function entryOf(r: LogRow): LogEntry {
  return { endpoint: r.endpoint, method: r.method, statusCode: r.status_code, timestamp: new Date(r.ts).toISOString(), keyId: r.key_id, durationMs: r.duration_ms };
}

/** The where clause of a filtered read, as text with numbered parameters (values never enter the text). */
function whereOf(q: Read): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const $ = (v: unknown) => `$${params.push(v)}`;
  const f = q.filter;
  const conds = [`owner_id = ${$(q.ownerId)}`, `mode = ${$(q.mode)}`];
  if (f.statuses) conds.push(f.statuses.length === 1 ? `status_code = ${$(f.statuses[0])}::int4` : `status_code = any(${$(f.statuses)}::int4[])`);
  if (f.methods) conds.push(f.methods.length === 1 ? `method = ${$(f.methods[0])}` : `method = any(${$(f.methods)}::text[])`);
  if (f.endpoint) {
    // The index holds left(endpoint, 256) in "C" (byte) order. A prefix of at
    // most 256 characters is exactly that range and an exact path shorter than
    // 256 exactly that value, so no condition on the whole endpoint is added;
    // longer ones recheck it. (Postgres still visits the rows for a count over
    // an expression index: measured, see the README, How it works.)
    const path = f.endpoint.path;
    const head = path.slice(0, 256);
    const indexed = `(left(endpoint, 256) collate "C")`;
    if (f.endpoint.prefix) {
      // Endpoints are printable ASCII, so the next string after every extension of `head` is `head` with its last character bumped.
      const upper = head.slice(0, -1) + String.fromCharCode(head.charCodeAt(head.length - 1) + 1);
      conds.push(`${indexed} >= ${$(head)}::text and ${indexed} < ${$(upper)}::text`);
      if (path.length > 256) conds.push(`starts_with(endpoint, ${$(path)}::text)`);
    } else {
      conds.push(`${indexed} = ${$(head)}::text`);
      if (path.length >= 256) conds.push(`endpoint = ${$(path)}::text`);
    }
  }
  if (f.keyId) conds.push(`key_id = ${$(f.keyId)}`);
  if (f.fromMs !== undefined) conds.push(`ts >= ${$(new Date(f.fromMs).toISOString())}::timestamptz`);
  if (f.toMs !== undefined) conds.push(`ts < ${$(new Date(f.toMs).toISOString())}::timestamptz`);
  return { text: conds.join(" and "), params };
}
