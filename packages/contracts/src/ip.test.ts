/** IP addresses and ranges for ipAllowlist: what parses, the one canonical spelling, and matching across families. */
import { describe, expect, test } from "bun:test";
import { canonicalIpRange, ipInRange, parseIp, parseIpRange } from "./ip";

const inRange = (ip: string, range: string) => {
  const a = parseIp(ip);
  const r = parseIpRange(range);
  if (a === null || r === null) throw new Error(`unparsable test input ${ip} / ${range}`);
  return ipInRange(a, r);
};

describe("parseIp", () => {
  test("IPv4 dotted quads, mapped into ::ffff:0:0/96", () => {
    expect(parseIp("0.0.0.0")).toBe(0xffffn << 32n);
    expect(parseIp("1.2.3.4")).toBe((0xffffn << 32n) | 0x01020304n);
    expect(parseIp("255.255.255.255")).toBe((0xffffn << 32n) | 0xffffffffn);
  });

  test("an IPv4 address and its IPv4-mapped IPv6 spelling are the same value (a dual-stack socket reports the latter)", () => {
    expect(parseIp("::ffff:127.0.0.1")).toBe(parseIp("127.0.0.1"));
    expect(parseIp("::FFFF:7f00:1")).toBe(parseIp("127.0.0.1"));
  });

  test("IPv6 in full, compressed, mixed-case and with a trailing dotted quad", () => {
    expect(parseIp("::")).toBe(0n);
    expect(parseIp("::1")).toBe(1n);
    expect(parseIp("2001:db8::1")).toBe((0x20010db8n << 96n) | 1n);
    expect(parseIp("2001:DB8:0:0:0:0:0:1")).toBe(parseIp("2001:db8::1"));
    expect(parseIp("1::")).toBe(1n << 112n);
    expect(parseIp("64:ff9b::192.0.2.33")).toBe((0x64ff9bn << 96n) | 0xc0000221n);
  });

  test("refuses what is not exactly one address", () => {
    for (const s of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4", // leading zero: octal to some parsers
      "1.2.3.-4",
      " 1.2.3.4",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "1:2:3:4:5:6:7:8::", // :: must stand for at least one group
      "12345::",
      "fe80::1%eth0", // zone ids
      "1.2.3.4::", // a dotted quad must end the address
      "1.2.3.4::5",
      ":1::",
      "1::2:",
      "g::1",
      "1.2.3.4/32",
    ]) {
      expect({ s, v: parseIp(s) }).toEqual({ s, v: null });
    }
  });
});

describe("parseIpRange and canonicalIpRange", () => {
  test("an address alone is a single-address range; the canonical spelling drops /32 and /128", () => {
    expect(canonicalIpRange("203.0.113.7")).toBe("203.0.113.7");
    expect(canonicalIpRange("203.0.113.7/32")).toBe("203.0.113.7");
    expect(canonicalIpRange("2001:DB8:0:0::1/128")).toBe("2001:db8::1");
  });

  test("CIDRs keep their prefix; IPv6 is lowercase with the longest zero run compressed (RFC 5952, first run on a tie)", () => {
    expect(canonicalIpRange("10.0.0.0/8")).toBe("10.0.0.0/8");
    expect(canonicalIpRange("0.0.0.0/0")).toBe("0.0.0.0/0");
    expect(canonicalIpRange("2001:0DB8:0000:0000:0000:0000:0000:0000/32")).toBe("2001:db8::/32");
    expect(canonicalIpRange("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
    expect(canonicalIpRange("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1"); // a single zero word is not compressed
    expect(canonicalIpRange("::/0")).toBe("::/0");
  });

  test("host bits past the prefix, a prefix too long for the family, or junk: null", () => {
    for (const s of ["10.1.2.3/8", "1.2.3.4/33", "::1/129", "2001:db8::1/32", "1.2.3.4/", "1.2.3.4/08", "1.2.3.4/-1", "1.2.3.4/a", "nope", "1.2.3.4/8/8"]) {
      expect({ s, v: canonicalIpRange(s) }).toEqual({ s, v: null });
    }
  });

  test("the canonical spelling parses back to the same range", () => {
    for (const s of ["10.0.0.0/8", "192.168.1.1", "2001:db8::/48", "::1", "::ffff:0:0/96"]) {
      const c = canonicalIpRange(s)!;
      expect(parseIpRange(c)).toEqual(parseIpRange(s));
    }
  });
});

describe("ipInRange", () => {
  test("IPv4 CIDRs match the addresses inside and nothing next to them", () => {
    expect(inRange("10.255.0.1", "10.0.0.0/8")).toBe(true);
    expect(inRange("11.0.0.0", "10.0.0.0/8")).toBe(false);
    expect(inRange("9.255.255.255", "10.0.0.0/8")).toBe(false);
    expect(inRange("127.0.0.1", "127.0.0.1")).toBe(true);
    expect(inRange("127.0.0.2", "127.0.0.1")).toBe(false);
  });

  test("an IPv4 range matches the same caller seen through a dual-stack socket (::ffff:a.b.c.d)", () => {
    expect(inRange("::ffff:10.1.2.3", "10.0.0.0/8")).toBe(true);
    expect(inRange("::ffff:11.1.2.3", "10.0.0.0/8")).toBe(false);
  });

  test("0.0.0.0/0 is every IPv4 caller but no native IPv6 one; ::/0 is everyone", () => {
    expect(inRange("8.8.8.8", "0.0.0.0/0")).toBe(true);
    expect(inRange("2001:db8::1", "0.0.0.0/0")).toBe(false);
    expect(inRange("2001:db8::1", "::/0")).toBe(true);
    expect(inRange("8.8.8.8", "::/0")).toBe(true);
  });

  test("IPv6 prefixes", () => {
    expect(inRange("2001:db8:1234::5", "2001:db8::/32")).toBe(true);
    expect(inRange("2001:db9::5", "2001:db8::/32")).toBe(false);
    expect(inRange("::1", "::1")).toBe(true);
    expect(inRange("::2", "::1")).toBe(false);
  });
});
