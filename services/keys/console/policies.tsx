import { useState } from "preact/hooks";
import { call } from "./api";
import { errorText } from "./format";
import type { KeyView, Mode } from "./types";

/** A datetime-local value (the viewer's zone) for an ISO time, and back. */
const toLocalInput = (iso: string | null) => {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (v: string) => (v ? new Date(v).toISOString() : null);
const list = (v: string) =>
  v
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
const int = (v: string) => (v.trim() === "" ? null : Number(v));

interface Fields {
  label: string;
  expiresAt: string;
  scopes: string;
  ipAllowlist: string;
  rateLimit: string;
  windowSeconds: string;
  quota: string;
  period: string;
}

function bodyOf(f: Fields) {
  const scopes = list(f.scopes);
  const rate = int(f.rateLimit);
  const quota = int(f.quota);
  return {
    label: f.label.trim() || null,
    expiresAt: fromLocalInput(f.expiresAt),
    scopes: scopes.length ? scopes : null,
    ipAllowlist: list(f.ipAllowlist),
    rateLimit: rate === null ? null : { limit: rate, windowSeconds: Number(f.windowSeconds) },
    quota: quota === null ? null : { limit: quota, period: f.period },
  };
}

/**
 * Every policy in one PATCH: an empty field clears its policy (null). The
 * server checks every bound and answers 400 with nothing changed, whose
 * message is shown as it is.
 */
export function PolicyForm({ mode, k, onSaved, onCancel }: { mode: Mode; k: KeyView; onSaved: (k: KeyView) => void; onCancel: () => void }) {
  const [initial] = useState<Fields>(() => ({
    label: k.label ?? "",
    expiresAt: toLocalInput(k.expiresAt),
    scopes: k.scopes.join(", "),
    ipAllowlist: k.ipAllowlist.join("\n"),
    rateLimit: k.rateLimit ? String(k.rateLimit.limit) : "",
    windowSeconds: k.rateLimit ? String(k.rateLimit.windowSeconds) : "60",
    quota: k.quota ? String(k.quota.limit) : "",
    period: k.quota?.period ?? "day",
  }));
  const [f, setF] = useState(initial);
  const [error, setError] = useState("");
  const set = (name: keyof Fields) => (e: Event) => setF({ ...f, [name]: (e.currentTarget as HTMLInputElement).value });

  const submit = async (e: Event) => {
    e.preventDefault();
    setError("");
    // Only what was changed is sent: an untouched expiry already past, say, is not re-validated.
    const before = bodyOf(initial);
    const after = bodyOf(f);
    const body = Object.fromEntries(Object.entries(after).filter(([name, v]) => JSON.stringify(v) !== JSON.stringify(before[name as keyof typeof before])));
    try {
      onSaved((await call<KeyView>("PATCH", "/", { query: { mode }, body })).data);
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <form onSubmit={submit} class="policy">
      <label for="p-label">Label</label>
      <input id="p-label" maxLength={100} value={f.label} onInput={set("label")} />
      <label for="p-expires">Expires (empty: never)</label>
      <input id="p-expires" type="datetime-local" value={f.expiresAt} onInput={set("expiresAt")} />
      <label for="p-scopes">Scopes (comma-separated; * for every scope)</label>
      <input id="p-scopes" value={f.scopes} onInput={set("scopes")} spellcheck={false} />
      <label for="p-ips">IP allowlist (one address or CIDR a line; empty: anywhere)</label>
      <textarea id="p-ips" rows={3} value={f.ipAllowlist} onInput={set("ipAllowlist")} spellcheck={false} />
      <fieldset>
        <legend>Rate limit (empty: none)</legend>
        <label for="p-rate">Calls</label>
        <input id="p-rate" type="number" min={1} inputMode="numeric" value={f.rateLimit} onInput={set("rateLimit")} />
        <label for="p-window">per seconds</label>
        <input id="p-window" type="number" min={1} max={3600} inputMode="numeric" value={f.windowSeconds} onInput={set("windowSeconds")} />
      </fieldset>
      <fieldset>
        <legend>Quota (empty: none)</legend>
        <label for="p-quota">Calls</label>
        <input id="p-quota" type="number" min={1} inputMode="numeric" value={f.quota} onInput={set("quota")} />
        <label for="p-period">per</label>
        <select id="p-period" value={f.period} onChange={set("period")}>
          <option value="day">day</option>
          <option value="month">month</option>
        </select>
      </fieldset>
      <p class="error" role="alert">
        {error}
      </p>
      <div class="actions">
        <button type="submit" class="primary">
          Save policies
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
