import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/** HKDF info label: a key derived for webhook secrets is useless for anything else (and the other way round). */
const HKDF_INFO = "riskinmind/webhook-secrets/v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A signing secret as shown to the owner: `whsec_` + base64 of the bytes that sign. */
export const SECRET_PREFIX = "whsec_";

/**
 * Encrypts and decrypts webhook signing secrets at rest (AES-256-GCM). The
 * endpoint id is the associated data, so a ciphertext copied onto another
 * endpoint's row does not decrypt.
 */
export interface SecretBox {
  seal(endpointId: string, secret: Uint8Array): Buffer;
  open(endpointId: string, sealed: Uint8Array): Buffer;
}

/**
 * The box from config: WEBHOOK_SECRETS_KEY (32+ bytes, base64 or hex) when
 * given, else JWT_SECRET; either way through HKDF-SHA256 with a fixed label,
 * so the AES key is never the raw setting.
 */
export function createSecretBox(material: Uint8Array): SecretBox {
  const key = Buffer.from(hkdfSync("sha256", material, Buffer.alloc(0), HKDF_INFO, 32));
  return {
    seal(endpointId, secret) {
      const iv = randomBytes(IV_BYTES);
      const c = createCipheriv("aes-256-gcm", key, iv);
      c.setAAD(Buffer.from(endpointId));
      const body = Buffer.concat([c.update(secret), c.final()]);
      return Buffer.concat([iv, body, c.getAuthTag()]);
    },
    open(endpointId, sealed) {
      const buf = Buffer.from(sealed);
      const d = createDecipheriv("aes-256-gcm", key, buf.subarray(0, IV_BYTES));
      d.setAAD(Buffer.from(endpointId));
      d.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
      return Buffer.concat([d.update(buf.subarray(IV_BYTES, buf.length - TAG_BYTES)), d.final()]);
    },
  };
}

/** 32 random bytes and their `whsec_` form. */
export function newSigningSecret(): { bytes: Buffer; text: string } {
  const bytes = randomBytes(32);
  return { bytes, text: SECRET_PREFIX + bytes.toString("base64") };
}

/** WEBHOOK_SECRETS_KEY as bytes: 64+ hex digits or base64 of 32+ bytes; null when neither. */
export function parseSecretsKey(v: string): Buffer | null {
  // All hex digits reads as hex (it would also pass as base64, decoding to other bytes).
  if (/^[0-9a-fA-F]+$/.test(v)) return v.length >= 64 && v.length % 2 === 0 ? Buffer.from(v, "hex") : null;
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) {
    const b = Buffer.from(v, "base64");
    if (b.length >= 32) return b;
  }
  return null;
}

/**
 * The box of this configuration: WEBHOOK_SECRETS_KEY, else JWT_SECRET.
 * Undefined with neither (tokens verified by JWKS only): webhooks are then
 * off, since a key made up per process would not open secrets after a
 * restart or on another replica.
 */
export function secretBoxFor(config: { WEBHOOK_SECRETS_KEY?: Buffer | undefined; JWT_SECRET?: string | undefined }): SecretBox | undefined {
  const material = config.WEBHOOK_SECRETS_KEY ?? (config.JWT_SECRET === undefined ? undefined : Buffer.from(config.JWT_SECRET));
  return material === undefined ? undefined : createSecretBox(material);
}
