import { Elysia } from "elysia";
import { AppError, errorBody, type ErrorCode, ERROR_STATUS, requestIdFor } from "@riskinmind/contracts";
import type { Logger } from "pino";
import { errFields, redactSecrets } from "./logger";
import type { Metrics } from "./metrics";

export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_HEADER_BYTES = 8 * 1024;

/** Headers on every response of every service. */
export const SECURITY_HEADERS: Record<string, string> = {
  // Keys and logs are private: no cache anywhere may keep a response.
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "cross-origin-resource-policy": "same-origin",
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** An error envelope response for a code; the body and the `x-request-id` header carry the same `requestId`. */
export function errorResponse(code: ErrorCode, message: string, requestId: string, headers?: Record<string, string>): Response {
  return json(ERROR_STATUS[code], errorBody(code, message, requestId), { ...headers, "x-request-id": requestId });
}

/**
 * The request id of a request under httpBasics, made at its first hook and
 * kept as its `x-request-id` response header: every later phase (the body
 * parser, an error, the log line) reads that one id.
 */
function requestIdOf(set: { headers: unknown }, request: Request): string {
  const headers = set.headers as Record<string, string | undefined>;
  return (headers["x-request-id"] ??= requestIdFor(request.headers.get("x-request-id")));
}

/** What a body that did not arrive in time is answered with; the connection is not reused. */
const bodyTimeout = (ms: number) => new AppError("REQUEST_TIMEOUT", `The request body did not arrive within ${ms} ms.`, { connection: "close" });

/**
 * Reads the body, at most `limit` bytes, all of it within `timeoutMs` from the
 * first read: a caller that announces more than it sends, or drips a byte at a
 * time, gets 408 instead of holding the connection.
 */
async function readLimited(request: Request, limit: number, timeoutMs: number): Promise<Uint8Array> {
  const length = request.headers.get("content-length");
  if (length !== null && !(Number(length) <= limit)) {
    throw new AppError("PAYLOAD_TOO_LARGE", `Request body exceeds ${limit} bytes.`, { connection: "close" });
  }
  const reader = request.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), expired]);
      if (next === "timeout") {
        reader.cancel().catch(() => {});
        throw bodyTimeout(timeoutMs);
      }
      const { done, value } = next;
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw new AppError("PAYLOAD_TOO_LARGE", `Request body exceeds ${limit} bytes.`, { connection: "close" });
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/** The path of a request URL, absolute or (as Bun gives it without a usable Host) relative; never throws. */
function pathOf(url: string): string {
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return url.slice(start, q < 0 ? undefined : q);
}

export interface HttpBasicsDeps {
  log: Logger;
  metrics: Metrics;
  /** Paths that serve HTML (docs) and need a looser content policy. */
  htmlPaths?: string[];
  /** The longest a request body may take to arrive (BODY_TIMEOUT_MS); 408 after. */
  bodyTimeoutMs?: number;
  /**
   * Runs before a body is read, on every request that has one: an edge whose
   * body-bearing routes all need a caller identity authenticates here, so an
   * anonymous caller gets 401 without us reading (or waiting for) a byte.
   * `ctx` names the matched route (its pattern) and gives Bun's server, for
   * the socket's peer address: what a guard needs to judge the caller for
   * this route (its scope, its allowlist) before the body.
   */
  beforeBody?: (request: Request, ctx: { route: string; server: { requestIP(r: Request): { address: string } | null } | null }) => void | Promise<void>;
  /**
   * Routes (by pattern) whose handler needs the exact bytes of the body, to
   * check a signature over them: the parse phase hands those routes the body
   * as a Uint8Array of at most the given number of bytes, unparsed and of any
   * content type (their handler parses it after the check). Every other route
   * keeps MAX_BODY_BYTES and strict JSON.
   */
  rawBodyRoutes?: Record<string, number>;
}

/**
 * Everything an HTTP edge of ours does around its routes, once: request ids,
 * security headers, size limits, strict JSON parsing, the error envelope for
 * every failure (including Elysia's own), one log line and metrics per request.
 */
export function httpBasics({ log, metrics, htmlPaths = [], bodyTimeoutMs = 10_000, beforeBody, rawBodyRoutes = {} }: HttpBasicsDeps) {
  // Labelled children resolved once per (route, method, status): prom-client
  // hashes and validates a label object on every call otherwise. Bounded,
  // since routes are patterns (or "unmatched") and methods/statuses are few.
  const series = new Map<string, { count: { inc(): void }; duration: { observe(v: number): void } }>();
  const seriesFor = (route: string, method: string, status: string) => {
    const id = `${route} ${method} ${status}`;
    let s = series.get(id);
    if (s === undefined) {
      const labels = { route, method: METHOD_LABELS.has(method) ? method : "OTHER", status };
      s = { count: metrics.httpRequests.child(labels), duration: metrics.httpDuration.child(labels) };
      series.set(id, s);
    }
    return s;
  };
  return (
    new Elysia({ name: "riskinmind/http-basics" })
      .error({ AppError })
      // Made in onRequest, before the body is parsed: a 408/413/415/431 or a 404 never reaches derive, yet carries the id too.
      .derive({ as: "global" }, ({ request, set }) => ({ requestId: requestIdOf(set, request), startedAt: performance.now() }))
      .onRequest(({ request, set }) => {
        // Sent back as x-request-id so a caller can quote it to support; the same id is in our log line and any error body.
        const requestId = requestIdOf(set, request);
        Object.assign(set.headers, SECURITY_HEADERS);
        if (htmlPaths.length > 0 && isHtmlPath(pathOf(request.url), htmlPaths)) {
          set.headers["content-security-policy"] =
            "default-src 'self'; script-src 'self' 'sha256-TcUB1mzXiQO4GxpTRZ0EMpOXKMU3u+n/q1WrgVIcs1I='; style-src 'self' 'unsafe-inline'; img-src 'self'; connect-src 'self'; font-src 'self'; frame-ancestors 'none'";
        }
        let headerBytes = 0;
        request.headers.forEach((v, k) => {
          headerBytes += k.length + v.length + 4;
        });
        if (headerBytes > MAX_HEADER_BYTES) {
          return errorResponse("HEADERS_TOO_LARGE", `Request headers exceed ${MAX_HEADER_BYTES} bytes.`, requestId, SECURITY_HEADERS);
        }
        // The body's size is judged in the parse phase, after beforeBody: an anonymous caller learns nothing from it.
      })
      .onParse({ as: "global" }, async ({ request, route, server }) => {
        if (beforeBody) await beforeBody(request, { route, server });
        const rawLimit = Object.hasOwn(rawBodyRoutes, route) ? rawBodyRoutes[route] : undefined;
        if (rawLimit !== undefined) return readLimited(request, rawLimit, bodyTimeoutMs);
        const bytes = await readLimited(request, MAX_BODY_BYTES, bodyTimeoutMs);
        if (bytes.byteLength === 0) return undefined as unknown as object;
        const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
        if (type !== "application/json") {
          throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json (or send no body).");
        }
        try {
          return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
        } catch {
          throw new AppError("MALFORMED_JSON", "The request body is not valid JSON.");
        }
      })
      .onError({ as: "global" }, ({ code, error, set, request }) => {
        const withHeaders = (res: Response) => {
          for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!res.headers.has(k)) res.headers.set(k, v);
          // Keep set.status true to what is sent: the request log and metrics read it.
          set.status = res.status;
          return res;
        };
        // Elysia wraps what a parse hook throws; the AppError inside is what counts.
        const cause = (error as { cause?: unknown })?.cause;
        const app = error instanceof AppError ? error : cause instanceof AppError ? cause : undefined;
        const requestId = requestIdOf(set, request);
        const reply = (code: ErrorCode, message: string, extra?: Record<string, string>) =>
          withHeaders(errorResponse(code, message, requestId, { ...(set.headers as Record<string, string>), ...extra }));
        if (app) return reply(app.code, app.message, app.headers);
        switch (code) {
          case "NOT_FOUND":
            // The path is echoed for the caller's sake, minus anything shaped like a key or a JWT (a key pasted into a URL must not travel on in error bodies).
            return reply("NOT_FOUND", `No route for ${request.method} ${redactSecrets(pathOf(request.url).slice(0, 200))}.`);
          case "VALIDATION":
            return reply("VALIDATION_ERROR", validationMessage(error));
          case "PARSE":
            return reply("MALFORMED_JSON", "The request body could not be parsed.");
          default:
            // Elysia 1.4 throws a TypeError while *describing* a validation
            // failure when the bad value is an object whose toString is not a
            // function (e.g. {"label":{"toString":1}}): still the client's mistake.
            if (error instanceof TypeError && /mapValueError|ValidationError/.test(error.stack ?? "")) {
              return reply("VALIDATION_ERROR", "Invalid request: a value has the wrong type.");
            }
            // Messages can quote the request (a URL that failed to parse): never let a key or token through.
            log.error({ ...errFields(error), code }, "unhandled error");
            return reply("INTERNAL", "Internal error.");
        }
      })
      .onAfterResponse({ as: "global" }, (ctx) => {
        const { request, set, route } = ctx as unknown as { request: Request; set: { status?: number | string }; route?: string };
        const started = (ctx as unknown as { startedAt?: number }).startedAt ?? performance.now();
        const ms = performance.now() - started;
        const status = String(typeof set.status === "number" ? set.status : 200);
        const routeLabel = route || "unmatched";
        const series = seriesFor(routeLabel, request.method, status);
        series.count.inc();
        series.duration.observe(ms / 1000);
        log.info({ requestId: requestIdOf(set as { headers: unknown }, request), method: request.method, route: routeLabel, status: Number(status), ms: Math.round(ms * 100) / 100 }, "request");
      })
  );
}

const METHOD_LABELS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

function isHtmlPath(path: string, htmlPaths: string[]): boolean {
  return htmlPaths.some((p) => path === p || path.startsWith(p + "/"));
}

function validationMessage(error: unknown): string {
  const e = error as { all?: { path?: string; message?: string }[]; type?: string };
  const first = e.all?.[0];
  const where = e.type === "query" ? "query" : e.type === "body" ? "body" : (e.type ?? "request");
  if (first?.path) return `Invalid ${where} field '${first.path.replace(/^\//, "")}': ${first.message ?? "invalid value"}.`;
  return `Invalid ${where}.`;
}
