import { describe, expect, test } from "bun:test";
import { checkTargetUrl, isNonPublicIp, refuseAtDelivery } from "./url-policy";

describe("registration", () => {
  test("https to a public host passes, normalised", () => {
    expect(checkTargetUrl("https://Hooks.Example.com/a?b=1", false)).toEqual({ ok: true, url: "https://hooks.example.com/a?b=1" });
  });
  test("numeric spellings of loopback are caught after normalisation", () => {
    for (const u of ["https://2130706433/", "https://0x7f.1/", "https://0177.0.0.1/", "https://[0:0:0:0:0:ffff:7f00:1]/"]) {
      expect(checkTargetUrl(u, false).ok).toBe(false);
    }
  });
  test("with private targets allowed: http and loopback pass, other schemes and credentials still do not", () => {
    expect(checkTargetUrl("http://127.0.0.1:3000/h", true).ok).toBe(true);
    expect(checkTargetUrl("http://localhost/h", true).ok).toBe(true);
    expect(checkTargetUrl("file:///etc/passwd", true).ok).toBe(false);
    expect(checkTargetUrl("http://u:p@127.0.0.1/h", true).ok).toBe(false);
  });
});

describe("address classes", () => {
  test("non-public", () => {
    for (const a of [
      "127.0.0.1",
      "10.0.0.1",
      "172.31.255.255",
      "192.168.0.1",
      "169.254.169.254",
      "100.64.1.1",
      "0.0.0.0",
      "::",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:10.0.0.1",
      "64:ff9b::a00:1",
      "ff02::1",
      "not-an-ip",
    ]) {
      expect([a, isNonPublicIp(a)]).toEqual([a, true]);
    }
  });
  test("public", () => {
    for (const a of ["93.184.215.14", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "2a00:1450:4001::1"]) {
      expect([a, isNonPublicIp(a)]).toEqual([a, false]);
    }
  });
});

describe("at delivery", () => {
  const resolver = (addresses: string[]) => async () => addresses;
  test("a name resolving to any private address is refused for good", async () => {
    expect(await refuseAtDelivery("https://h.example/", false, resolver(["93.184.215.14", "10.0.0.5"]))).toMatchObject({ final: true });
    expect(await refuseAtDelivery("https://h.example/", false, resolver(["::1"]))).toMatchObject({ final: true });
  });
  test("a name resolving to public addresses only is called", async () => {
    expect(await refuseAtDelivery("https://h.example/", false, resolver(["93.184.215.14"]))).toBeNull();
  });
  test("a failed lookup is retried, not final", async () => {
    const failing = async () => {
      throw Object.assign(new Error("nope"), { code: "ENOTFOUND" });
    };
    expect(await refuseAtDelivery("https://h.example/", false, failing)).toEqual({ reason: "cannot resolve host (ENOTFOUND)", final: false });
  });
  test("allowed private targets skip the lookup", async () => {
    expect(await refuseAtDelivery("http://127.0.0.1/", true, resolver(["127.0.0.1"]))).toBeNull();
  });
});
