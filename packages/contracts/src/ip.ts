/**
 * IP addresses and CIDR ranges, for a key's `ipAllowlist`: the keys service
 * validates and normalises what an owner sends, the guard matches callers.
 * Both families are held as one 128-bit value (IPv4 as its IPv4-mapped IPv6
 * form, `::ffff:a.b.c.d`), so `10.0.0.0/8` also matches a caller seen as
 * `::ffff:10.1.2.3` by a dual-stack socket.
 */

/** A parsed range: the network's first address and its prefix length, both in the 128-bit space. */
export interface IpRange {
  readonly network: bigint;
  readonly bits: number;
}

const V4_MAPPED = 0xffffn << 32n;
const ALL = (1n << 128n) - 1n;

/** A dotted-quad IPv4 address as a 32-bit number, or null. No leading zeros (`010` is octal to some parsers). */
function parseV4(s: string): number | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/** An IPv6 address (with `::` and an optional trailing dotted quad) as a 128-bit value, or null. Zone ids (`%eth0`) are refused. */
function parseV6(s: string): bigint | null {
  if (s.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(s)) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  // A dotted quad may only end the address (`::ffff:1.2.3.4`), never sit before `::` (`1.2.3.4::`).
  const words = (part: string, last: boolean): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const groups = part.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (last && i === groups.length - 1 && g.includes(".")) {
        const v4 = parseV4(g);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
        out.push(Number.parseInt(g, 16));
      }
    }
    return out;
  };
  const head = words(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? words(halves[1]!, true) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  let v = 0n;
  for (const w of all) v = (v << 16n) | BigInt(w);
  return v;
}

/** An address (either family) as a 128-bit value, IPv4 mapped; null when it is not an address. */
export function parseIp(s: string): bigint | null {
  if (s.includes(":")) return parseV6(s);
  const v4 = parseV4(s);
  return v4 === null ? null : V4_MAPPED | BigInt(v4);
}

const maskOf = (bits: number): bigint => (bits === 0 ? 0n : (ALL << BigInt(128 - bits)) & ALL);

/**
 * `a.b.c.d`, `a.b.c.d/n` (n 0..32), an IPv6 address or `addr/n` (n 0..128)
 * as a range, or null. Host bits past the prefix are refused
 * (`10.1.2.3/8` is almost always a typo for an address or for `10.0.0.0/8`).
 */
export function parseIpRange(s: string): IpRange | null {
  const slash = s.indexOf("/");
  const addr = slash < 0 ? s : s.slice(0, slash);
  const value = parseIp(addr);
  if (value === null) return null;
  const v4 = !addr.includes(":");
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    bits = Number(p);
    if (bits > max) return null;
  }
  const bits128 = v4 ? bits + 96 : bits;
  if ((value & ~maskOf(bits128) & ALL) !== 0n) return null;
  return { network: value, bits: bits128 };
}

function formatV6(v: bigint): string {
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: the longest run (≥ 2) of zero words becomes `::`, the first such run on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

/**
 * The one spelling stored and shown for an allowlist entry: IPv4 dotted,
 * IPv6 as RFC 5952 (lowercase, shortest), a single address without `/32` or
 * `/128`. Null when the entry is not an address or range.
 */
export function canonicalIpRange(s: string): string | null {
  const r = parseIpRange(s);
  if (r === null) return null;
  if (r.bits >= 96 && r.network >> 32n === 0xffffn && !s.includes(":")) {
    const n = Number(r.network & 0xffffffffn);
    const dotted = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
    return r.bits === 128 ? dotted : `${dotted}/${r.bits - 96}`;
  }
  const text = formatV6(r.network);
  return r.bits === 128 ? text : `${text}/${r.bits}`;
}

/** True when the address (already parsed with parseIp) lies in the range. */
export function ipInRange(ip: bigint, r: IpRange): boolean {
  return (ip & maskOf(r.bits)) === r.network;
}
