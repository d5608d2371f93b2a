import type { Server } from "bun";
import { requestIdFor } from "@riskinmind/contracts";
import { errorResponse, SECURITY_HEADERS } from "./http";

/** What `serve` needs of an app: Elysia's `fetch` (and `compile`) qualify. */
export interface Fetchable {
  fetch(request: Request): Response | Promise<Response>;
}

export interface ServeOptions {
  port: number;
  hostname: string;
}

// A Host is a DNS name (underscores allowed: container names carry them) or IPv4 address, or a bracketed IPv6 literal, with an optional port.
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::([0-9]{1,5}))?$/;

/**
 * Answered before (or instead of) the app, so with the headers and request id
 * httpBasics would add (the caller's id when well-formed); the connection is not reused.
 */
const refuse = (code: "VALIDATION_ERROR" | "INTERNAL", message: string, request?: Request) =>
  errorResponse(code, message, requestIdFor(request?.headers.get("x-request-id")), { ...SECURITY_HEADERS, connection: "close" });

/** True when a Host header value is one we route under (never affects which route). */
export function isValidHost(host: string): boolean {
  const m = HOST.exec(host);
  return m !== null && (m[1] === undefined || Number(m[1]) <= 65535);
}

/**
 * The request as the app should see it, or a 400 for a Host we refuse.
 *
 * Routing must never depend on Host. Bun builds `request.url` from it: with no
 * or an unusable Host the URL is relative ("/path"), and Elysia finds the path
 * by skipping a fixed 11 characters ("http://" + 4), so a Host of three
 * characters or fewer moved the path ("Host: x" + "/api/metrics" served
 * "/metrics"). A missing or empty Host (HTTP/1.0 allows it) is served under a
 * fixed name; a malformed one is refused; a short one is rebased.
 */
export function normalizeRequest(request: Request): Request | Response {
  const host = request.headers.get("host");
  const url = request.url;
  if (host !== null && host !== "") {
    if (!isValidHost(host)) return refuse("VALIDATION_ERROR", "Invalid Host header.", request);
    // The common case costs one regex: a well-formed Host of 4+ characters routes right as is.
    if (host.length > 3 && url.startsWith("http://")) return request;
  }
  const path = url.startsWith("/") ? url : url.startsWith("http://") ? url.slice(Math.max(url.indexOf("/", 7), 7)) : undefined;
  if (path === undefined || !path.startsWith("/")) return refuse("VALIDATION_ERROR", "Invalid request target.", request);
  return new Request(`http://localhost${path}`, request);
}

/**
 * Listens with `app` behind the Host normalisation above, in production mode
 * whatever NODE_ENV says: Bun's development error page shows source lines and
 * absolute paths, and an error escaping the app is an envelope, never a page.
 */
export function serve(app: Fetchable & { compile?(): unknown; server?: unknown }, { port, hostname }: ServeOptions): Server<undefined> {
  app.compile?.();
  const server = Bun.serve({
    port,
    hostname,
    development: false,
    reusePort: true,
    idleTimeout: 30,
    fetch(request) {
      const req = normalizeRequest(request);
      if (req instanceof Response) return req;
      return app.fetch(req);
    },
    error() {
      // Bun hands this hook the error only: the request, and so its id, is out of reach; a fresh id still names the answer.
      return refuse("INTERNAL", "Internal error.");
    },
  });
  // Elysia gives a route (and httpBasics' beforeBody) `server` from its own
  // listen(); served from here it would be null, and with it the TCP peer
  // (requestIP) a per-address limit or an audit entry needs.
  if (app.server === null) app.server = server;
  return server;
}
