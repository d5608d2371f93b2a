import { useEffect, useState } from "preact/hooks";
import { Scroll } from "./scroll";
import { call } from "./api";
import { Dialog } from "./dialog";
import { errorText, ms, when } from "./format";
import type { Mode, Webhook } from "./types";
import { useTabState } from "./tab-state";
import { Unavailable } from "./unavailable";

/** The key event types an endpoint can subscribe to (packages/contracts/src/key-events.ts KEY_EVENT_TYPES). */
const EVENT_TYPES = ["key.created", "key.rotated", "key.revoked", "key.updated", "key.expired", "key.leaked", "key.quota_warning", "key.quota_exhausted"];

interface Attempt {
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}
interface Delivery {
  eventId: string;
  eventType: string;
  status: string;
  attempts: Attempt[];
  nextAttemptAt: string | null;
}

export function WebhooksTab() {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const { state, error, setError, run } = useTabState();
  const [secret, setSecret] = useState<Webhook | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [viewing, setViewing] = useState<Webhook | null>(null);

  const load = () =>
    run(async () => {
      setHooks((await call<Webhook[]>("GET", "/webhooks")).data);
    });
  useEffect(() => void load(), []);

  if (state === "missing") return <Unavailable what="Webhooks" />;
  return (
    <div class="stack">
      <h2 class="sr-only">Webhooks</h2>
      {state === "error" && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {secret && (
        <section class="card reveal" aria-labelledby="secret-title">
          <h3 id="secret-title">Signing secret for {secret.url}</h3>
          <p class="warn">
            <strong>Shown once.</strong> Verify each delivery's webhook-signature with it; it cannot be shown again.
          </p>
          <label for="wh-secret">Secret</label>
          <div class="row">
            <input id="wh-secret" class="mono" readOnly value={secret.secret ?? ""} onFocus={(e) => e.currentTarget.select()} />
            <button
              type="button"
              class="primary"
              onClick={() => void navigator.clipboard.writeText(secret.secret ?? "").catch(() => (document.getElementById("wh-secret") as HTMLInputElement | null)?.select())}
            >
              Copy
            </button>
          </div>
          <button type="button" onClick={() => setSecret(null)}>
            I have stored it
          </button>
        </section>
      )}
      {state === "ok" && (
        <CreateForm
          onCreated={(w) => {
            setSecret(w);
            void load();
          }}
        />
      )}
      {hooks && hooks.length > 0 && (
        <section class="card" aria-labelledby="wh-title">
          <h3 id="wh-title">Endpoints</h3>
          <ul class="list">
            {hooks.map((w) => (
              <li key={w.id}>
                <span class="mono">{w.url}</span> <span class="badge">{String(w.mode ?? "live")}</span>
                <br />
                <span class="hint">
                  {w.description ? `${String(w.description)} · ` : ""}
                  {(w.events ?? []).join(", ")}
                </span>
                <span class="actions">
                  <button type="button" onClick={() => setViewing(w)}>
                    Deliveries
                  </button>
                  <button type="button" class="danger" onClick={() => setDeleting(w)}>
                    Delete
                  </button>
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {viewing && <Deliveries hook={viewing} onClose={() => setViewing(null)} />}
      {deleting && (
        <Dialog title="Delete webhook" onClose={() => setDeleting(null)}>
          <p>
            Stop sending events to <span class="mono">{deleting.url}</span>? Pending deliveries stop too.
          </p>
          <div class="actions">
            <button
              type="button"
              class="danger"
              onClick={async () => {
                try {
                  await call("DELETE", `/webhooks/${encodeURIComponent(deleting.id)}`);
                } catch (e) {
                  setError(errorText(e));
                }
                setDeleting(null);
                void load();
              }}
            >
              Delete
            </button>
            <button type="button" onClick={() => setDeleting(null)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}

function CreateForm({ onCreated }: { onCreated: (w: Webhook) => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [mode, setMode] = useState<Mode>("live");
  const [all, setAll] = useState(false);
  const [events, setEvents] = useState<string[]>(["key.revoked", "key.rotated"]);
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      const body = { url: url.trim(), events: all ? ["*"] : events, mode, ...(description.trim() ? { description: description.trim() } : {}) };
      const r = await call<Webhook>("POST", "/webhooks", { body });
      setUrl("");
      setDescription("");
      onCreated(r.data);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="wh-new">
      <h3 id="wh-new">Add an endpoint</h3>
      <label for="wh-url">URL</label>
      <input id="wh-url" type="url" required placeholder="https://example.com/hooks/keys" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      <label for="wh-desc">Description (optional)</label>
      <input id="wh-desc" maxLength={200} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      <label for="wh-mode">Events of the key slot</label>
      <select id="wh-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value as Mode)}>
        <option value="live">live</option>
        <option value="test">test</option>
      </select>
      <fieldset>
        <legend>Events</legend>
        <label class="inline">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} />
          All, present and future (<span class="mono">*</span>)
        </label>
        <div class="checks">
          {EVENT_TYPES.map((t) => (
            <label key={t}>
              <input type="checkbox" disabled={all} checked={all || events.includes(t)} onChange={(e) => setEvents(e.currentTarget.checked ? [...events, t] : events.filter((x) => x !== t))} />
              <span class="mono">{t}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <p class="error" role="alert">
        {error}
      </p>
      <button type="submit" class="primary">
        Add endpoint
      </button>
    </form>
  );
}

function Deliveries({ hook, onClose }: { hook: Webhook; onClose: () => void }) {
  const [rows, setRows] = useState<Delivery[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    call<Delivery[]>("GET", `/webhooks/${encodeURIComponent(hook.id)}/deliveries`, { query: { limit: 50 } })
      .then((r) => setRows(r.data))
      .catch((e) => setError(errorText(e)));
  }, [hook.id]);
  return (
    <Dialog title="Deliveries" onClose={onClose}>
      <p class="mono">{hook.url}</p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {rows?.length === 0 && <p>No deliveries yet.</p>}
      {rows && rows.length > 0 && (
        <Scroll label="Deliveries table">
          <table>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Next attempt</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.eventId}>
                  <td class="mono">{d.eventType}</td>
                  <td>{d.status}</td>
                  <td>{d.attempts.map((a) => `${when(a.at)}: ${a.statusCode ?? a.error ?? "?"} (${ms(a.durationMs)})`).join("; ")}</td>
                  <td>{d.nextAttemptAt ? when(d.nextAttemptAt) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
      <button type="button" onClick={onClose}>
        Close
      </button>
    </Dialog>
  );
}
