/**
 * NATS_URL as one server or a cluster: `nats://u:p@h1:4222,nats://u:p@h2:4222`.
 * nats.js takes a list of servers but reads no credentials from them, so the
 * user and password (or token) are taken out of the URLs here, once.
 */

export interface NatsServers {
  /** Each server's URL without credentials, in the order given. */
  servers: string[];
  /** `user:pass@` of the URLs (every URL that carries credentials carries the same ones). */
  user?: string;
  pass?: string;
  /** `token@` (a user part without a password). */
  token?: string;
}

/**
 * Parses a comma-separated list of NATS URLs. Credentials may ride on every
 * URL or on the first only; URLs that carry them must carry the same ones
 * (a client authenticates as one user, on whichever server it reaches).
 * Throws an Error whose message names the fault, never a credential.
 */
export function parseNatsUrls(value: string, protocols: readonly string[] = ["nats:", "tls:", "ws:", "wss:"]): NatsServers {
  const parts = value.split(",").map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === "")) throw new Error("must be a URL or a comma-separated list of URLs, none empty");
  let creds: { user: string; pass: string } | undefined;
  const servers: string[] = [];
  // One URL keeps the message a single URL always got; in a list, the faulty one is named by position.
  const scheme = `must be a URL starting with ${protocols.join(" or ")}//`;
  for (const [i, part] of parts.entries()) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      throw new Error(parts.length === 1 ? scheme : `URL ${i + 1} of ${parts.length} is not a URL`);
    }
    if (!protocols.includes(url.protocol)) throw new Error(parts.length === 1 ? scheme : `URL ${i + 1} of ${parts.length} must start with ${protocols.join(" or ")}//`);
    if (!url.hostname) throw new Error(`URL ${i + 1} of ${parts.length} has no host`);
    if ((url.pathname !== "" && url.pathname !== "/") || url.search || url.hash) throw new Error(`URL ${i + 1} of ${parts.length} must be scheme://[user:pass@]host[:port] only`);
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    if (user || pass) {
      if (creds && (creds.user !== user || creds.pass !== pass)) throw new Error("every URL of the list that carries credentials must carry the same ones");
      creds = { user, pass };
    }
    url.username = "";
    url.password = "";
    servers.push(url.toString().replace(/\/$/, ""));
  }
  if (!creds) return { servers };
  if (creds.user && creds.pass) return { servers, user: creds.user, pass: creds.pass };
  if (creds.user) return { servers, token: creds.user };
  throw new Error("a password needs a user name");
}
