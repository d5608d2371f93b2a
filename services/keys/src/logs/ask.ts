import {
  AppError,
  check,
  decodeCursor,
  exportLine,
  filterToWire,
  isFiltered,
  parseJson,
  parseLogsFilter,
  type ExportFormat,
  type KeyMode,
  type LogEntry,
  type LogsFilter,
  type LogsFilterInput,
  type LogsQueryRequest,
} from "@riskinmind/contracts";
import { errFields, type Logger } from "@riskinmind/runtime";
import type { NatsConnection } from "nats";

export interface AskDeps {
  nc: NatsConnection;
  log: Logger;
  subject: string;
  timeoutMs: number;
}

/** One page as the usage service answered it. */
export interface UsagePage {
  data: LogEntry[];
  total: number;
  /** Absent only from a usage service that predates cursors (and then only for an unfiltered page). */
  nextCursor?: string | null;
}

const encoder = new TextEncoder();
const unavailable = () => new AppError("USAGE_UNAVAILABLE", "Usage logs are unavailable right now; retry shortly.");

/** The parsed filter and mode of a /logs or /logs/export query, or 400 VALIDATION_ERROR naming the first bad parameter. */
export function filterOf(query: LogsFilterInput & { mode?: KeyMode }): { mode: KeyMode; filter: LogsFilter } {
  const f = parseLogsFilter(query);
  if (!f.ok) throw new AppError("VALIDATION_ERROR", f.message);
  return { mode: query.mode ?? "live", filter: f.value };
}

/** Checks a cursor against the filter and mode it must have been made with (400 otherwise). */
export function checkCursor(cursor: string, mode: KeyMode, filter: LogsFilter): void {
  const c = decodeCursor(cursor, mode, filter);
  if (!c.ok) throw new AppError("VALIDATION_ERROR", c.message);
}

/** The usage.logs.query request: today's fields, plus the filter and cursor only when there are any. */
export function usageRequest(ownerId: string, mode: KeyMode, filter: LogsFilter, page: { page: number; limit: number; cursor?: string }): LogsQueryRequest {
  // With a cursor the page is 1: see LogsQueryRequest (an older usage service then answers without nextCursor, which is refused).
  const req: LogsQueryRequest = { ownerId, page: page.cursor === undefined ? page.page : 1, limit: page.limit, mode, ...filterToWire(filter) };
  if (page.cursor !== undefined) req.cursor = page.cursor;
  return req;
}

/** Asks the usage service for one page of the owner's logs over NATS. */
export async function askUsage(deps: AskDeps, req: LogsQueryRequest): Promise<UsagePage> {
  return pageOf(deps, req, await requestUsage(deps, req));
}

/** One page of an export: the rows' bytes, ready for the body, and the cursor after them (null at the end). */
export interface ExportPage {
  body: Uint8Array;
  nextCursor: string | null;
}

/**
 * Asks for one page of an export (`as` set): the rows as the usage service
 * encoded them, forwarded without parsing a row. From a usage service that
 * predates `as` (it answers the JSON page) the rows are encoded here, with
 * the same functions, so the bytes are the same either way.
 */
export async function askExportPage(deps: AskDeps, req: LogsQueryRequest & { as: ExportFormat }): Promise<ExportPage> {
  const data = await requestUsage(deps, req);
  const lf = data.indexOf(10);
  if (lf < 0) {
    // JSON has no raw LF: a refusal, or an older service's page.
    const page = pageOf(deps, req, data);
    let text = "";
    for (const e of page.data) text += exportLine(e, req.as);
    return { body: encoder.encode(text), nextCursor: page.nextCursor ?? null };
  }
  const head = parseJson(data.subarray(0, lf));
  if (!check.logsExportHead.Check(head)) {
    deps.log.warn("usage export page did not match the contract");
    throw unavailable();
  }
  return { body: data.subarray(lf + 1), nextCursor: head.nextCursor };
}

async function requestUsage(deps: AskDeps, req: LogsQueryRequest): Promise<Uint8Array> {
  try {
    // No responders, a timeout or a closed connection all mean the same to the caller.
    return (await deps.nc.request(deps.subject, encoder.encode(JSON.stringify(req)), { timeout: deps.timeoutMs })).data;
  } catch (err) {
    deps.log.warn({ ...errFields(err) }, "usage logs request failed");
    throw unavailable();
  }
}

/** A reply of the JSON shape, checked: the page, or the error it stands for. */
function pageOf(deps: AskDeps, req: LogsQueryRequest, data: Uint8Array): UsagePage {
  const reply = parseJson(data);
  if (!check.logsQueryReply.Check(reply)) {
    deps.log.warn("usage logs reply did not match the contract");
    throw unavailable();
  }
  if (!reply.ok) {
    // A refused query is the caller's problem; a usage database down or broken is the usage service's.
    if (reply.code === "VALIDATION_ERROR") throw new AppError(reply.code, reply.message);
    throw unavailable();
  }
  if (reply.nextCursor === undefined && (req.cursor !== undefined || isFiltered(parseLogsFilterOrEmpty(req)))) {
    // A usage service that predates filters ignores them: its rows would be unfiltered under a filtered label.
    deps.log.warn("usage service answered a filtered logs query without nextCursor (it predates filters)");
    throw unavailable();
  }
  return reply;
}

function parseLogsFilterOrEmpty(req: LogsQueryRequest): LogsFilter {
  const f = parseLogsFilter(req);
  return f.ok ? f.value : {};
}
