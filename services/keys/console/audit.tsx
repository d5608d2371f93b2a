import { useEffect, useState } from "preact/hooks";
import { Scroll } from "./scroll";
import { call } from "./api";
import { when } from "./format";
import { useTabState } from "./tab-state";
import type { AuditRow } from "./types";
import { Unavailable } from "./unavailable";

const PAGE = 50;

/** A short reading of an entry's changes: the field names it touched. */
const changed = (c: unknown) => (c && typeof c === "object" ? Object.keys(c as object).join(", ") : "");

/** The owner's audit trail, newest first, from GET /api/v1/keys/audit (cursor paging: "Load more"). */
export function AuditTab() {
  const [rows, setRows] = useState<AuditRow[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const { state, error, run } = useTabState();

  const load = (cursor?: string) =>
    run(async () => {
      const r = await call<AuditRow[], { nextCursor: string | null }>("GET", "/audit", { query: { limit: PAGE, cursor } });
      setRows((prev) => (cursor ? [...prev, ...r.data] : r.data));
      setNext(r.meta?.nextCursor ?? null);
    });
  useEffect(() => void load(), []);

  if (state === "missing") return <Unavailable what="The audit log" />;
  return (
    <div class="stack">
      <h2 class="sr-only">Audit</h2>
      {state === "loading" && <p>Loading…</p>}
      {state === "error" && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {state === "ok" && rows.length === 0 && <p class="card muted">Nothing recorded yet.</p>}
      {rows.length > 0 && (
        <section class="card" aria-labelledby="audit-title">
          <h3 id="audit-title">Audit log</h3>
          <Scroll label="Audit log table">
            <table id="audit">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Key</th>
                  <th scope="col">Mode</th>
                  <th scope="col">By</th>
                  <th scope="col">From</th>
                  <th scope="col">Changed</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.id}>
                    <td>{when(r.at)}</td>
                    <td class="mono">{r.action}</td>
                    <td class="mono">{r.keyId ?? "—"}</td>
                    <td>{r.mode ?? "—"}</td>
                    <td>
                      {r.actor.type}
                      {r.actor.type === "owner" ? "" : `: ${r.actor.id}`}
                    </td>
                    <td class="mono">{r.ip ?? "—"}</td>
                    <td>{changed(r.changes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
          {next && (
            <button type="button" onClick={() => void load(next)}>
              Load more
            </button>
          )}
        </section>
      )}
    </div>
  );
}
