/**
 * The one HTTP client of the tests. `req` is the single fetch (a hard timeout,
 * so a hang fails the test instead of waiting forever; the body parsed when it
 * is JSON); `client(target)` binds it to a base URL or to an in-process Elysia
 * app (`app.handle`, no socket) and adds the keys edge's routes, typed from
 * @riskinmind/contracts. Error and security tests use `call` for anything raw.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import type { CurrentKeyResponse, ErrorEnvelope, GenerateBody, GenerateResponse, LogsResponse, RegenerateResponse, RevokeResponse } from "@riskinmind/contracts";

export interface Reply<T = any> {
  status: number;
  body: T;
  /** The body as received. */
  text: string;
  headers: Headers;
}

export interface CallOptions {
  headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json` (unless headers name another type). */
  json?: unknown;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  timeoutMs?: number;
}

/** Something that answers Requests without a socket: an Elysia app. */
export interface Handler {
  handle(request: Request): Promise<Response> | Response;
}

/** A base URL (`http://127.0.0.1:port`) or an in-process app. */
export type Target = string | Handler;

/** `req`'s limit: a process under test that hangs fails the test fast. */
const REQ_TIMEOUT_MS = 5_000;
/** A client's limit: longer, since in-process calls under a concurrency test queue up on two shared cores. */
const CLIENT_TIMEOUT_MS = 30_000;

function send(target: Target, url: string, init: CallOptions & { method?: string }): Promise<Response> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body = init.body;
  if (init.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(init.json);
  }
  const request = new Request(url, { method: init.method ?? "GET", headers, body, signal: AbortSignal.timeout(init.timeoutMs ?? REQ_TIMEOUT_MS) });
  return typeof target === "string" ? fetch(request) : Promise.resolve(target.handle(request));
}

async function toReply(res: Response): Promise<Reply> {
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the text is kept so the assertion shows it
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** One request to a full URL (any service), parsed. */
export async function req(url: string, init: CallOptions & { method?: string } = {}): Promise<Reply> {
  return toReply(await send(url, url, init));
}

/** What a keys-edge route answers: its success body (the contract schema `S`) or the error envelope. */
export type Answer<S extends TSchema> = Reply<Static<S> | ErrorEnvelope>;

export interface Client {
  /** The base URL (`http://localhost` for an in-process app). */
  url: string;
  /** Any method, any path, any body: the raw form for error and security tests. */
  call(method: string, path: string, opts?: CallOptions): Promise<Reply>;
  list(owner: { headers: Record<string, string> }): Promise<Answer<typeof CurrentKeyResponse>>;
  generate(owner: { headers: Record<string, string> }, body?: GenerateBody): Promise<Answer<typeof GenerateResponse>>;
  regenerate(owner: { headers: Record<string, string> }, body?: GenerateBody): Promise<Answer<typeof RegenerateResponse>>;
  revoke(owner: { headers: Record<string, string> }): Promise<Answer<typeof RevokeResponse>>;
  logs(owner: { headers: Record<string, string> }, query?: { page?: number | string; limit?: number | string }): Promise<Answer<typeof LogsResponse>>;
}

/** A client of one service: a base URL, or an app answered in-process. */
export function client(target: Target): Client {
  const url = typeof target === "string" ? target.replace(/\/$/, "") : "http://localhost";
  const call = async (method: string, path: string, opts: CallOptions = {}) => toReply(await send(target, url + path, { timeoutMs: CLIENT_TIMEOUT_MS, ...opts, method }));
  return {
    url,
    call,
    list: (o) => call("GET", "/api/v1/keys/", { headers: o.headers }),
    generate: (o, body) => call("POST", "/api/v1/keys/generate", { headers: o.headers, ...(body ? { json: body } : {}) }),
    regenerate: (o, body) => call("POST", "/api/v1/keys/regenerate", { headers: o.headers, ...(body ? { json: body } : {}) }),
    revoke: (o) => call("POST", "/api/v1/keys/revoke", { headers: o.headers }),
    logs(o, query = {}) {
      const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
      return call("GET", `/api/v1/keys/logs${qs ? `?${qs}` : ""}`, { headers: o.headers });
    },
  };
}

/** The one way to issue a key in a test: `POST /generate` through the keys edge, refusing anything but 201. */
export async function issueKey(keys: Pick<Client, "generate">, owner: { headers: Record<string, string> }, label?: string): Promise<{ apiKey: string; keyId: string }> {
  const r = await keys.generate(owner, label === undefined ? undefined : { label });
  if (r.status !== 201 || !r.body.success) throw new Error(`generate failed: ${r.status} ${r.text}`);
  return { apiKey: r.body.data.apiKey, keyId: r.body.data.keyId };
}

/** True when the body is exactly our error envelope (with a request id). */
export function isEnvelope(body: unknown): body is ErrorEnvelope {
  const b = body as { success?: unknown; error?: { code?: unknown; message?: unknown; requestId?: unknown } } | null;
  return (
    !!b &&
    b.success === false &&
    typeof b.error?.code === "string" &&
    typeof b.error?.message === "string" &&
    typeof b.error?.requestId === "string" &&
    b.error.requestId !== "" &&
    Object.keys(b).length === 2
  );
}

/** Every route of the keys edge that needs a JWT: the spec's five, with and without the trailing slash. */
export const KEY_ROUTES = [
  ["GET", "/api/v1/keys/"],
  ["GET", "/api/v1/keys"],
  ["POST", "/api/v1/keys/generate"],
  ["POST", "/api/v1/keys/regenerate"],
  ["POST", "/api/v1/keys/revoke"],
  ["GET", "/api/v1/keys/logs"],
] as const;
