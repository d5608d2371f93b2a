import { useEffect, useState } from "preact/hooks";
import { Scroll } from "./scroll";
import { call, raw } from "./api";
import { errorText, ms, when } from "./format";
import type { LogRow, LogsMeta, Mode } from "./types";

const METHODS = ["", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const PAGE = 20;

interface Filters {
  status: string;
  method: string;
  endpoint: string;
  keyId: string;
  from: string;
  to: string;
}
const EMPTY: Filters = { status: "", method: "", endpoint: "", keyId: "", from: "", to: "" };
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);
const query = (f: Filters, mode: Mode) => ({ status: f.status.trim(), method: f.method, endpoint: f.endpoint.trim(), keyId: f.keyId.trim(), from: iso(f.from), to: iso(f.to), mode });

/**
 * The log table: filters as the server names them, cursor paging (the
 * server's nextCursor goes forward; the cursors already used are kept to go
 * back), and the CSV export of everything the filters match.
 */
export function LogsTable({ mode, refreshes }: { mode: Mode; refreshes: number }) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  // cursors[i] opens page i (undefined: the first page).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [rows, setRows] = useState<LogRow[] | null>(null);
  const [meta, setMeta] = useState<LogsMeta | null>(null);
  const [error, setError] = useState("");
  const [exporting, setExporting] = useState("");
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    let live = true;
    setError("");
    call<LogRow[], LogsMeta>("GET", "/logs", { query: { ...query(applied, mode), limit: PAGE, cursor } })
      .then((r) => {
        if (!live) return;
        setRows(r.data);
        setMeta(r.meta!);
      })
      .catch((e) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [applied, mode, cursor, refreshes]);

  const set = (name: keyof Filters) => (e: Event) => setDraft({ ...draft, [name]: (e.currentTarget as HTMLInputElement).value });
  const apply = (e: Event) => {
    e.preventDefault();
    setApplied(draft);
    setCursors([undefined]);
  };
  const exportCsv = async () => {
    setExporting("Preparing the CSV…");
    try {
      const res = await raw("GET", "/logs/export", { query: { ...query(applied, mode), format: "csv" } });
      if (!res.ok) throw new Error(((await res.json().catch(() => null)) as { error?: { message: string } } | null)?.error?.message ?? `The server answered ${res.status}.`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = `usage-logs-${mode}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setExporting("CSV downloaded.");
    } catch (e) {
      setExporting(errorText(e));
    }
  };

  return (
    <section class="card" aria-labelledby="logs-title">
      <h3 id="logs-title">Calls log</h3>
      <form class="filters" onSubmit={apply} aria-label="Log filters">
        <div>
          <label for="f-status">Status</label>
          <input id="f-status" placeholder="e.g. 5xx,429" value={draft.status} onInput={set("status")} />
        </div>
        <div>
          <label for="f-method">Method</label>
          <select id="f-method" value={draft.method} onChange={set("method")}>
            {METHODS.map((m) => (
              <option key={m} value={m}>
                {m || "any"}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-endpoint">Endpoint</label>
          <input id="f-endpoint" placeholder="/api/v1/loans/*" value={draft.endpoint} onInput={set("endpoint")} />
        </div>
        <div>
          <label for="f-key">Key id</label>
          <input id="f-key" value={draft.keyId} onInput={set("keyId")} />
        </div>
        <div>
          <label for="f-from">From</label>
          <input id="f-from" type="datetime-local" value={draft.from} onInput={set("from")} />
        </div>
        <div>
          <label for="f-to">To</label>
          <input id="f-to" type="datetime-local" value={draft.to} onInput={set("to")} />
        </div>
        <div class="actions">
          <button type="submit">Apply filters</button>
          <button type="button" onClick={exportCsv}>
            Export CSV
          </button>
        </div>
      </form>
      <p role="status" class="hint">
        {exporting}
      </p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {meta && (
        <p class="hint" id="logs-count">
          {meta.total} matching call{meta.total === 1 ? "" : "s"}, newest first
        </p>
      )}
      <Scroll label="Calls log table">
        <table id="logs">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Method</th>
              <th scope="col">Endpoint</th>
              <th scope="col" class="n">
                Status
              </th>
              <th scope="col" class="n">
                Duration
              </th>
              <th scope="col">Key</th>
            </tr>
          </thead>
          <tbody>
            {rows?.length === 0 && (
              <tr>
                <td colSpan={6}>No calls match.</td>
              </tr>
            )}
            {rows?.map((r, i) => (
              <tr key={`${r.timestamp}-${i}`}>
                <td>{when(r.timestamp)}</td>
                <td>{r.method}</td>
                <td class="mono">{r.endpoint}</td>
                <td class={`n status s${String(r.statusCode)[0]}xx`}>{r.statusCode}</td>
                <td class="n">{ms(r.durationMs)}</td>
                <td class="mono">{r.keyId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      <nav class="actions" aria-label="Log pages">
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <span class="hint">Page {cursors.length}</span>
        <button type="button" disabled={!meta?.nextCursor} onClick={() => meta?.nextCursor && setCursors([...cursors, meta.nextCursor])}>
          Older
        </button>
      </nav>
    </section>
  );
}
