/**
 * The console's only way to the server: same-origin fetches to /api/v1/keys
 * with the owner's token. The token lives in sessionStorage (gone with the
 * tab), never in a URL the server sees: a `#token=` fragment is read once and
 * removed from the address bar.
 */
import type { Envelope } from "./types";

const TOKEN_KEY = "riskinmind.console.token";
export const API = "/api/v1/keys";

/** Moves a `#token=` from the URL into session storage; true when there was one. */
export function takeFragmentToken(): boolean {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return false;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]!));
  // Out of the address bar and the history entry: a shared screen or a copied URL must not carry it.
  history.replaceState(null, "", location.pathname + location.search);
  return true;
}

export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t: string) => sessionStorage.setItem(TOKEN_KEY, t);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Fired when the server says the token is no good: the app goes back to sign-in. */
export const onUnauthorized = new EventTarget();

export type Query = Record<string, string | number | undefined | null>;

export function qs(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

export async function raw(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${getToken() ?? ""}` };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${API}${path}${qs(opts.query)}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
}

/** A call whose answer is the JSON envelope; a non-2xx answer throws ApiError with the server's code and message. */
export async function call<T = unknown, M = unknown>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<Envelope<T, M>> {
  let res: Response;
  try {
    res = await raw(method, path, opts);
  } catch {
    throw new ApiError(0, "NETWORK", "The server could not be reached.");
  }
  const body = (await res.json().catch(() => null)) as (Omit<Envelope<T, M>, "success"> & { success: boolean; error?: { code: string; message: string } }) | null;
  if (!res.ok || !body || body.success !== true) {
    const err = body?.error ?? { code: `HTTP_${res.status}`, message: `The server answered ${res.status}.` };
    if (res.status === 401) onUnauthorized.dispatchEvent(new Event("unauthorized"));
    throw new ApiError(res.status, err.code, err.message);
  }
  return body as Envelope<T, M>;
}
