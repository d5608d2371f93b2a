import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, call } from "./api";
import { Dialog } from "./dialog";
import { errorText, num, when } from "./format";
import { PolicyForm } from "./policies";
import { Reveal } from "./reveal";
import type { IssuedKey, KeyView, Mode } from "./types";

type State = { s: "loading" } | { s: "none" } | { s: "ok"; key: KeyView } | { s: "error"; message: string };

export function KeyTab({ mode }: { mode: Mode }) {
  const [state, setState] = useState<State>({ s: "loading" });
  const [revealed, setRevealed] = useState<IssuedKey | null>(null);
  const [dialog, setDialog] = useState<"" | "regenerate" | "revoke" | "policies">("");
  const [notice, setNotice] = useState("");

  const load = useCallback(async () => {
    try {
      const r = await call<KeyView>("GET", "/", { query: { mode } });
      setState({ s: "ok", key: r.data });
    } catch (e) {
      if (e instanceof ApiError && e.code === "KEY_NOT_FOUND") setState({ s: "none" });
      else setState({ s: "error", message: errorText(e) });
    }
  }, [mode]);
  useEffect(() => {
    setState({ s: "loading" });
    setRevealed(null);
    setNotice("");
    void load();
  }, [load]);

  const issued = (k: IssuedKey, message: string) => {
    setRevealed(k);
    setDialog("");
    setNotice(message);
    void load();
  };

  return (
    <div class="stack">
      <h2 class="sr-only">Key</h2>
      <p role="status" class="notice">
        {notice}
      </p>
      {revealed && <Reveal issued={revealed} onDone={() => setRevealed(null)} />}
      {state.s === "loading" && <p>Loading…</p>}
      {state.s === "error" && (
        <p role="alert" class="error">
          {state.message}
        </p>
      )}
      {state.s === "none" && <Generate mode={mode} onIssued={(k) => issued(k, "Key generated.")} />}
      {state.s === "ok" && (
        <>
          <KeyDetails k={state.key} />
          <div class="actions">
            <button type="button" onClick={() => setDialog("policies")}>
              Edit policies
            </button>
            <button type="button" onClick={() => setDialog("regenerate")}>
              Regenerate
            </button>
            <button type="button" class="danger" onClick={() => setDialog("revoke")}>
              Revoke
            </button>
          </div>
          {dialog === "regenerate" && <Regenerate mode={mode} k={state.key} onClose={() => setDialog("")} onIssued={(k) => issued(k, "Key regenerated.")} />}
          {dialog === "revoke" && (
            <Revoke
              mode={mode}
              k={state.key}
              onClose={() => setDialog("")}
              onRevoked={() => {
                setDialog("");
                setRevealed(null);
                setNotice("Key revoked. Calls with it are refused from now on.");
                void load();
              }}
            />
          )}
          {dialog === "policies" && (
            <Dialog title="Edit policies" onClose={() => setDialog("")}>
              <PolicyForm
                mode={mode}
                k={state.key}
                onCancel={() => setDialog("")}
                onSaved={(k) => {
                  setDialog("");
                  setNotice("Policies saved.");
                  setState({ s: "ok", key: k });
                }}
              />
            </Dialog>
          )}
        </>
      )}
    </div>
  );
}

function KeyDetails({ k }: { k: KeyView }) {
  const expired = k.expiresAt !== null && Date.parse(k.expiresAt) <= Date.now();
  return (
    <section class="card" aria-labelledby="key-title">
      <h2 id="key-title">
        <span class="mono">{k.keySnippet}</span> <span class={`badge ${expired ? "bad" : "ok"}`}>{expired ? "EXPIRED" : k.status}</span> <span class="badge">{k.mode}</span>
      </h2>
      <dl class="grid">
        <dt>Label</dt>
        <dd>{k.label ?? "—"}</dd>
        <dt>Key id</dt>
        <dd class="mono">{k.keyId}</dd>
        <dt>Created</dt>
        <dd>{when(k.createdAt)}</dd>
        <dt>Last used</dt>
        <dd>{when(k.lastUsedAt)}</dd>
        <dt>Expires</dt>
        <dd>{when(k.expiresAt)}</dd>
        <dt>Scopes</dt>
        <dd>{k.scopes.join(", ")}</dd>
        <dt>IP allowlist</dt>
        <dd>{k.ipAllowlist.length ? k.ipAllowlist.join(", ") : "anywhere"}</dd>
        <dt>Rate limit</dt>
        <dd>{k.rateLimit ? `${num(k.rateLimit.limit)} per ${k.rateLimit.windowSeconds} s` : "none"}</dd>
        <dt>Quota</dt>
        <dd>
          {k.quota ? (
            <>
              <meter id="quota-meter" min={0} max={k.quota.limit} value={k.quota.used ?? 0} high={k.quota.limit * 0.8} optimum={0} aria-label="Quota used" /> {num(k.quota.used ?? 0)} of{" "}
              {num(k.quota.limit)} this {k.quota.period}
              {k.quota.resetsAt ? `, resets ${when(k.quota.resetsAt)}` : ""}
            </>
          ) : (
            "none"
          )}
        </dd>
        {k.previousKey && (
          <>
            <dt>Previous key</dt>
            <dd>
              <span class="mono">{k.previousKey.keySnippet}</span> keeps working until {when(k.previousKey.expiresAt)}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

function Generate({ mode, onIssued }: { mode: Mode; onIssued: (k: IssuedKey) => void }) {
  const [label, setLabel] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const r = await call<IssuedKey>("POST", "/generate", { query: { mode }, body: label.trim() ? { label: label.trim() } : undefined });
      onIssued(r.data);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="gen-title">
      <h2 id="gen-title">No active {mode} key</h2>
      <p>Generate one to call the API. The full key is shown once, right after.</p>
      <label for="gen-label">Label (optional)</label>
      <input id="gen-label" maxLength={100} value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
      <p class="error" role="alert">
        {error}
      </p>
      <button type="submit" class="primary" disabled={busy}>
        Generate {mode} key
      </button>
    </form>
  );
}

const GRACE = [
  [0, "None: the current key stops at once"],
  [3600, "1 hour"],
  [86400, "24 hours"],
  [604800, "7 days"],
] as const;

function Regenerate({ mode, k, onClose, onIssued }: { mode: Mode; k: KeyView; onClose: () => void; onIssued: (k: IssuedKey) => void }) {
  const [grace, setGrace] = useState(3600);
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      // The label is not carried over by the server: send the current one so it stays.
      const r = await call<IssuedKey>("POST", "/regenerate", { query: { mode }, body: { gracePeriodSeconds: grace, ...(k.label ? { label: k.label } : {}) } });
      onIssued(r.data);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Dialog title="Regenerate key" onClose={onClose}>
      <form onSubmit={submit}>
        <p>A new key replaces {k.keySnippet}; its policies carry over.</p>
        <label for="grace">Grace period for the current key</label>
        <select id="grace" value={grace} onChange={(e) => setGrace(Number(e.currentTarget.value))}>
          {GRACE.map(([s, l]) => (
            <option key={s} value={s}>
              {l}
            </option>
          ))}
        </select>
        <p class="error" role="alert">
          {error}
        </p>
        <div class="actions">
          <button type="submit" class="primary">
            Regenerate
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

const CONFIRM_WORD = "revoke";

function Revoke({ mode, k, onClose, onRevoked }: { mode: Mode; k: KeyView; onClose: () => void; onRevoked: () => void }) {
  const [typed, setTyped] = useState("");
  const [error, setError] = useState("");
  const ok = typed.trim() === CONFIRM_WORD;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!ok) return setError(`Type ${CONFIRM_WORD} to confirm.`);
    try {
      await call("POST", "/revoke", { query: { mode } });
      onRevoked();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Dialog title="Revoke key" onClose={onClose}>
      <form onSubmit={submit}>
        <p>
          Revoking <span class="mono">{k.keySnippet}</span> refuses every call made with it at once{k.previousKey ? ", and ends the previous key's grace period" : ""}. This cannot be undone.
        </p>
        <label for="revoke-confirm">
          Type <strong>{CONFIRM_WORD}</strong> to confirm
        </label>
        <input id="revoke-confirm" autoComplete="off" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} aria-describedby="revoke-error" />
        <p id="revoke-error" class="error" role="alert">
          {error}
        </p>
        <div class="actions">
          <button type="submit" class="danger" disabled={!ok}>
            Revoke key
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
