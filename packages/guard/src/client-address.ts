/**
 * The caller's address as the guard judges it against a key's ipAllowlist.
 * By default the socket's peer, and nothing a client writes: X-Forwarded-For
 * is a header anyone can send. Behind a proxy of your own, list the proxies
 * (`trustedProxies`): only when the direct peer is one of them is the
 * header read, right to left, skipping addresses that are themselves trusted
 * proxies; the first other address is the caller (each proxy appends the
 * address it saw, so entries left of that one are the client's own claims).
 */
import { ipInRange, parseIp, parseIpRange, type IpRange } from "@riskinmind/contracts";

/** Parses the trustedProxies option (addresses or CIDRs); throws on an entry that is neither, so a typo fails at start. */
export function parseTrustedProxies(entries: readonly string[]): IpRange[] {
  return entries.map((e) => {
    const r = parseIpRange(e.trim());
    if (r === null) throw new Error(`guard: trustedProxies entry '${e}' is not an IP address or CIDR range`);
    return r;
  });
}

const inAny = (ip: bigint, ranges: readonly IpRange[]) => ranges.some((r) => ipInRange(ip, r));

/**
 * The caller's address (IPv4 mapped into IPv6, as parseIp gives it), or null
 * when it cannot be known (no socket, as under `app.handle`, or a trusted
 * proxy that sent no usable header).
 */
export function clientAddress(peer: string | null | undefined, forwardedFor: string | null, trusted: readonly IpRange[]): bigint | null {
  if (peer === null || peer === undefined) return null;
  const direct = parseIp(peer);
  if (direct === null) return null;
  if (trusted.length === 0 || forwardedFor === null || !inAny(direct, trusted)) return direct;
  const hops = forwardedFor.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = parseIp(hops[i]!.trim());
    // Junk from a proxy we trust: we cannot tell who is behind it.
    if (ip === null) return null;
    if (!inAny(ip, trusted)) return ip;
  }
  // Every hop is one of our proxies: the request started inside; the first hop is the origin.
  return parseIp(hops[0]!.trim());
}
