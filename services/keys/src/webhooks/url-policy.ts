import { lookup } from "node:dns/promises";
import { ipInRange, parseIp, parseIpRange, type IpRange } from "@riskinmind/contracts";

/**
 * Where a webhook may point (SSRF policy). Without WEBHOOK_ALLOW_PRIVATE_TARGETS
 * a target must be https:// and must not be, or resolve to, an address a
 * public receiver cannot have: loopback, private (RFC 1918, unique-local),
 * link-local (cloud metadata lives at 169.254.169.254), CGNAT, unspecified,
 * multicast, reserved, documentation, benchmarking. IPv4-mapped IPv6
 * (`::ffff:10.0.0.1`) is the same value as its IPv4 form (contracts/ip.ts),
 * so it meets the same ranges.
 */
const NOT_PUBLIC: IpRange[] = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "::/128",
  "::1/128",
  "64:ff9b::/96",
  "100::/64",
  "2001:db8::/32",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
].map((r) => parseIpRange(r)!);

/** True when the address literal is not one a public receiver can have. */
export function isNonPublicIp(address: string): boolean {
  const ip = parseIp(address);
  return ip === null || NOT_PUBLIC.some((r) => ipInRange(ip, r));
}

/** The URL's host without IPv6 brackets. */
const hostOf = (u: URL): string => (u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname);

/** `localhost` and its subdomains, in any case, with or without the root's trailing dot. */
const isLocalhostName = (host: string): boolean => {
  const h = host.toLowerCase().replace(/\.+$/, "");
  return h === "localhost" || h.endsWith(".localhost");
};

/**
 * Checks a URL an owner registers; returns the URL to store (normalised by
 * WHATWG URL parsing: `http://2130706433/` is `http://127.0.0.1/`, so no
 * numeric spelling hides an address) or the reason it is refused.
 */
export function checkTargetUrl(raw: string, allowPrivate: boolean): { ok: true; url: string } | { ok: false; reason: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { ok: false, reason: "url must be an absolute URL" };
  }
  const schemes = allowPrivate ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(u.protocol)) return { ok: false, reason: `url must start with ${schemes.map((s) => `${s}//`).join(" or ")}` };
  // Credentials in a URL would be stored and shown in clear; the signature is the authentication.
  if (u.username !== "" || u.password !== "") return { ok: false, reason: "url must not carry credentials" };
  if (u.hash !== "") return { ok: false, reason: "url must not have a #fragment" };
  if (!allowPrivate) {
    const host = hostOf(u);
    if (isLocalhostName(host)) return { ok: false, reason: "url must not point to localhost" };
    if (parseIp(host) !== null && isNonPublicIp(host)) return { ok: false, reason: "url must not point to a private, loopback, link-local or reserved address" };
  }
  return { ok: true, url: u.href };
}

/** Where one attempt goes: the address the policy checked (null: call the URL as registered), or why it may not. */
export type DeliveryTarget = { ok: true; address: string | null } | { ok: false; reason: string; final: boolean };

/**
 * At delivery: resolves the host once and refuses when any address is not
 * public (a name registered as public may later resolve to 127.0.0.1). The
 * attempt must then connect to the address returned here (postPinned): a
 * second lookup by fetch could answer differently (DNS rebinding). A refusal
 * is final (a private target fails the delivery at once: retrying would only
 * knock again) or may pass later (a failed lookup is retried on the schedule).
 */
export async function resolveTarget(url: string, allowPrivate: boolean, resolve = lookupAll): Promise<DeliveryTarget> {
  if (allowPrivate) return { ok: true, address: null };
  const host = hostOf(new URL(url));
  if (isLocalhostName(host)) return { ok: false, reason: "target is localhost", final: true };
  if (parseIp(host) !== null) return isNonPublicIp(host) ? { ok: false, reason: NOT_PUBLIC_REASON, final: true } : { ok: true, address: null };
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    return { ok: false, reason: `cannot resolve host (${(err as { code?: string }).code ?? "error"})`, final: false };
  }
  if (addresses.length === 0) return { ok: false, reason: "host has no address", final: false };
  return addresses.some(isNonPublicIp) ? { ok: false, reason: NOT_PUBLIC_REASON, final: true } : { ok: true, address: addresses[0]! };
}

const NOT_PUBLIC_REASON = "target resolves to a private, loopback, link-local or reserved address";

/**
 * POSTs to `url` through exactly `address` (when not null): the connection
 * goes to that address, while the Host header, TLS SNI and the certificate
 * check keep the registered name, so the receiver sees the request it
 * registered for and a certificate for another name is refused. `ca` is for
 * tests (a receiver with a self-signed certificate); production uses the
 * system's roots.
 */
export function postPinned(url: string, address: string | null, init: RequestInit, ca?: string): Promise<Response> {
  if (address === null) return fetch(url, init);
  const u = new URL(url);
  const name = hostOf(u);
  const host = u.host;
  u.hostname = address.includes(":") ? `[${address}]` : address;
  const headers = new Headers(init.headers);
  headers.set("host", host);
  return fetch(u.href, { ...init, headers, tls: { serverName: name, ...(ca === undefined ? {} : { ca }) } });
}

async function lookupAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}
