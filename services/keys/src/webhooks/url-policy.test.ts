import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkTargetUrl, isNonPublicIp, postPinned, resolveTarget } from "./url-policy";

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
    expect(await resolveTarget("https://h.example/", false, resolver(["93.184.215.14", "10.0.0.5"]))).toMatchObject({ ok: false, final: true });
    expect(await resolveTarget("https://h.example/", false, resolver(["::1"]))).toMatchObject({ ok: false, final: true });
    expect(await resolveTarget("https://10.1.2.3/", false, resolver([]))).toMatchObject({ ok: false, final: true });
  });
  test("a name resolving to public addresses only is called, at the address that was checked", async () => {
    expect(await resolveTarget("https://h.example/", false, resolver(["93.184.215.14", "2606:4700::1111"]))).toEqual({ ok: true, address: "93.184.215.14" });
  });
  test("one lookup per attempt: a name that answers public then private (rebinding) is pinned to the public answer", async () => {
    const answers = [["93.184.215.14"], ["127.0.0.1"]];
    let lookups = 0;
    const rebinding = async () => answers[lookups++]!;
    expect(await resolveTarget("https://h.example/", false, rebinding)).toEqual({ ok: true, address: "93.184.215.14" });
    expect(lookups).toBe(1);
  });
  test("a failed lookup is retried, not final", async () => {
    const failing = async () => {
      throw Object.assign(new Error("nope"), { code: "ENOTFOUND" });
    };
    expect(await resolveTarget("https://h.example/", false, failing)).toEqual({ ok: false, reason: "cannot resolve host (ENOTFOUND)", final: false });
  });
  test("allowed private targets skip the lookup; a public address literal needs no pin", async () => {
    expect(await resolveTarget("http://127.0.0.1/", true, resolver(["127.0.0.1"]))).toEqual({ ok: true, address: null });
    expect(await resolveTarget("https://93.184.215.14/", false, resolver(["10.0.0.1"]))).toEqual({ ok: true, address: null });
  });
});

// A receiver on loopback with a self-signed certificate for one name, reached
// through postPinned as if that name had resolved to 127.0.0.1.
describe("pinned delivery", () => {
  const NAME = "hooks.example.test";
  let dir = "";
  let cert = "";
  let server: ReturnType<typeof Bun.serve>;
  let plain: ReturnType<typeof Bun.serve>;
  const seen: { host: string | null; path: string }[] = [];
  const record = (r: Request) => {
    seen.push({ host: r.headers.get("host"), path: new URL(r.url).pathname });
    return new Response("ok");
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rim-pin-"));
    const made = Bun.spawnSync([
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${NAME}`,
      "-addext",
      `subjectAltName=DNS:${NAME}`,
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]);
    if (made.exitCode !== 0) throw new Error(`openssl: ${made.stderr.toString()}`);
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", tls: { cert, key: readFileSync(join(dir, "key.pem"), "utf8") }, fetch: record });
    plain = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: record });
  });
  afterAll(() => {
    server?.stop(true);
    plain?.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  test("https: the connection goes to the pinned address; Host, SNI and the certificate check keep the registered name", async () => {
    seen.length = 0;
    const res = await postPinned(`https://${NAME}:${server.port}/hook?a=1`, "127.0.0.1", { method: "POST", body: "{}" }, cert);
    expect(res.status).toBe(200);
    expect(seen).toEqual([{ host: `${NAME}:${server.port}`, path: "/hook" }]);
  });
  test("a certificate for another name is refused, also right after a good call to the same address", async () => {
    expect((await postPinned(`https://${NAME}:${server.port}/hook`, "127.0.0.1", { method: "POST", body: "{}" }, cert)).status).toBe(200);
    let failure: unknown;
    await postPinned(`https://other.example.test:${server.port}/hook`, "127.0.0.1", { method: "POST", body: "{}" }, cert).catch((e) => {
      failure = e;
    });
    expect((failure as { code?: string } | undefined)?.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
  });
  test("http: pinned too, with the registered Host", async () => {
    seen.length = 0;
    expect((await postPinned(`http://${NAME}:${plain.port}/h`, "127.0.0.1", { method: "POST", body: "{}" })).status).toBe(200);
    expect(seen).toEqual([{ host: `${NAME}:${plain.port}`, path: "/h" }]);
  });
  test("an IPv6 address is bracketed in the URL it connects to", async () => {
    const v6 = Bun.serve({ port: 0, hostname: "::1", fetch: record });
    try {
      seen.length = 0;
      expect((await postPinned(`http://${NAME}:${v6.port}/six`, "::1", { method: "POST", body: "{}" })).status).toBe(200);
      expect(seen).toEqual([{ host: `${NAME}:${v6.port}`, path: "/six" }]);
    } finally {
      v6.stop(true);
    }
  });
});
