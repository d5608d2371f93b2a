import { verify, type KeyObject } from "node:crypto";
import { AppError } from "@riskinmind/contracts";
import type { LeakReportKeys } from "./config";

export const KEY_ID_HEADER = "github-public-key-identifier";
export const SIGNATURE_HEADER = "github-public-key-signature";

/** A DER ECDSA P-256 signature is at most 72 bytes; anything far longer is not one (and is not decoded). */
const MAX_SIGNATURE_CHARS = 512;

/** One 401 for every failure: a caller learns neither which header nor which check failed. */
const refused = () => new AppError("UNAUTHORIZED", "A leak report must be signed with a known reporter key.");

export interface ReportSigner {
  /** The identifier the report named (it becomes the actor id `github:<identifier>`). */
  keyId: string;
  key: KeyObject;
  signature: Buffer;
}

/**
 * The signing key a report names and its signature, or 401 UNAUTHORIZED when
 * a header is missing or the identifier unknown (with no keys configured, every
 * report). Cheap: runs before the body is read, and again in the handler.
 */
export function reportSigner(keys: LeakReportKeys, headers: Headers): ReportSigner {
  const keyId = headers.get(KEY_ID_HEADER);
  const sig = headers.get(SIGNATURE_HEADER);
  // Object.hasOwn-like lookup in a Map: "__proto__" or "toString" never match.
  const key = keyId === null ? undefined : keys.get(keyId);
  if (keyId === null || key === undefined || sig === null || sig.length === 0 || sig.length > MAX_SIGNATURE_CHARS) throw refused();
  return { keyId, key, signature: Buffer.from(sig, "base64") };
}

/** Throws 401 unless `signature` is the signer's ECDSA-SHA256 (DER) signature over exactly these bytes. */
export function checkSignature(signer: ReportSigner, body: Uint8Array): void {
  let ok = false;
  try {
    ok = verify("sha256", body, { key: signer.key, dsaEncoding: "der" }, signer.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw refused();
}
