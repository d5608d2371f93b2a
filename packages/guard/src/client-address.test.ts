/** The caller's address: the socket's peer unless that peer is a proxy we were told to trust. */
import { describe, expect, test } from "bun:test";
import { parseIp } from "@riskinmind/contracts";
import { clientAddress, parseTrustedProxies } from "./client-address";

const ip = (s: string) => parseIp(s);
const proxies = parseTrustedProxies(["10.0.0.0/8", "fd00::/8"]);

describe("clientAddress", () => {
  test("by default X-Forwarded-For is ignored: anyone can write it", () => {
    expect(clientAddress("203.0.113.9", "198.51.100.1", [])).toBe(ip("203.0.113.9"));
  });

  test("a peer that is not a trusted proxy is the caller, whatever it forwards", () => {
    expect(clientAddress("203.0.113.9", "198.51.100.1", proxies)).toBe(ip("203.0.113.9"));
  });

  test("behind a trusted proxy: the right-most forwarded address that is not itself a trusted proxy", () => {
    expect(clientAddress("10.0.0.2", "198.51.100.1", proxies)).toBe(ip("198.51.100.1"));
    // The client wrote 1.1.1.1 itself; our proxies appended what they saw.
    expect(clientAddress("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.7", proxies)).toBe(ip("198.51.100.1"));
    expect(clientAddress("::ffff:10.0.0.2", "2001:db8::5, fd00::1", proxies)).toBe(ip("2001:db8::5"));
  });

  test("behind a trusted proxy with no header, the proxy is the caller; with a junk hop, the caller is unknown", () => {
    expect(clientAddress("10.0.0.2", null, proxies)).toBe(ip("10.0.0.2"));
    expect(clientAddress("10.0.0.2", "1.1.1.1, not-an-ip", proxies)).toBeNull();
  });

  test("every hop a trusted proxy: the first hop is where the request started", () => {
    expect(clientAddress("10.0.0.2", "10.0.0.9, 10.0.0.7", proxies)).toBe(ip("10.0.0.9"));
  });

  test("no socket (app.handle) or an unreadable peer: unknown", () => {
    expect(clientAddress(undefined, "198.51.100.1", proxies)).toBeNull();
    expect(clientAddress(null, null, [])).toBeNull();
    expect(clientAddress("nonsense", null, [])).toBeNull();
  });
});

test("parseTrustedProxies refuses an entry that is not an address or CIDR, so a typo fails at start", () => {
  expect(() => parseTrustedProxies(["10.0.0.0/8", "10.0.0.0/33"])).toThrow("trustedProxies");
  expect(parseTrustedProxies([" 127.0.0.1 "])).toHaveLength(1);
});
