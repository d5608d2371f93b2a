/**
 * What the leak tests share: a reporter (an ECDSA P-256 key pair made at run
 * time, as GitHub's secret-scanning keys are), signing a body's exact bytes,
 * sending from a chosen loopback address, and reading what a test checks in
 * the tables.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import http from "node:http";
import { keyChecksum } from "@riskinmind/contracts";
import type { Client, Reply } from "@riskinmind/testkit";

export interface Reporter {
  id: string;
  /** The PEM SPKI public key, as LEAK_REPORT_PUBLIC_KEYS holds it. */
  pem: string;
  privateKey: KeyObject;
}

export function newReporter(id = `ghkey_${randomBytes(6).toString("hex")}`, curve = "prime256v1"): Reporter {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: curve });
  return { id, pem: publicKey.export({ type: "spki", format: "pem" }).toString(), privateKey };
}

/** LEAK_REPORT_PUBLIC_KEYS for these reporters. */
export const reportKeysEnv = (...rs: Reporter[]): string => JSON.stringify(Object.fromEntries(rs.map((r) => [r.id, r.pem])));

/** base64 DER ECDSA-SHA256 over the bytes, as GitHub signs a report. */
export const signBody = (r: Reporter, body: string | Uint8Array): string =>
  sign("sha256", typeof body === "string" ? Buffer.from(body) : body, { key: r.privateKey, dsaEncoding: "der" }).toString("base64");

export const LEAKS = "/api/v1/keys/leaks";
export const BY_VALUE = "/api/v1/keys/revoke-by-value";

/** A report body (JSON text) of these tokens, GitHub's shape. */
export const reportOf = (tokens: string[], type = "riskinmind_api_key"): string =>
  JSON.stringify(tokens.map((token, i) => ({ token, type, url: `https://github.com/octo/repo/blob/main/file${i}.env`, source: "content" })));

/** POSTs `body` signed by `by` (or with the given headers instead). */
export function postReport(keys: Client, body: string, by: Reporter | null, headers?: Record<string, string>): Promise<Reply> {
  const h = headers ?? (by ? { "github-public-key-identifier": by.id, "github-public-key-signature": signBody(by, body) } : {});
  return keys.call("POST", LEAKS, { headers: { "content-type": "application/json", ...h }, body });
}

/** A key-shaped token with a valid checksum that no service issued. */
export function wellFormedNonKey(mode: "live" | "test" = "live"): string {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const body = Array.from(randomBytes(43), (b) => alphabet[b % 62]).join("");
  return `sk_${mode}_${body}${keyChecksum(body)}`;
}

/** A POST with JSON from a chosen local address (127.0.0.x): a different TCP peer for the server. */
export function postFrom(localAddress: string, baseUrl: string, path: string, json: unknown): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: Number(url.port), path, method: "POST", localAddress, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(json));
  });
}
