import { createPublicKey, type KeyObject } from "node:crypto";
import { z } from "zod";

/** The reporters' signing keys, by the identifier a report names in `Github-Public-Key-Identifier`. */
export type LeakReportKeys = ReadonlyMap<string, KeyObject>;

const MAX_IDENTIFIER_CHARS = 200;

/**
 * LEAK_REPORT_PUBLIC_KEYS: a JSON object `{"<key identifier>": "<PEM SPKI public
 * key>"}` (GitHub publishes its secret-scanning keys this way: ECDSA P-256,
 * each with an identifier). Parsed once at start: a key that is not an EC
 * public key is a config error, not a 401 on every report. Empty or unset: no
 * reporter is trusted and every report is refused with 401.
 */
export const leakReportKeysField = () =>
  z
    .string()
    .optional()
    .transform((text, ctx): LeakReportKeys => {
      const keys = new Map<string, KeyObject>();
      if (text === undefined || text.trim() === "") return keys;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        ctx.addIssue({ code: "custom", message: 'must be a JSON object {"<key identifier>": "<PEM public key>"}' });
        return z.NEVER;
      }
      for (const [id, pem] of Object.entries(parsed)) {
        // The reason names the identifier only: a parser's message could quote the key material.
        if (id === "" || id.length > MAX_IDENTIFIER_CHARS || typeof pem !== "string") {
          ctx.addIssue({ code: "custom", message: `entry ${JSON.stringify(id.slice(0, 40))} must be a non-empty identifier with a PEM string` });
          return z.NEVER;
        }
        let key: KeyObject;
        try {
          key = createPublicKey({ key: pem, format: "pem" });
        } catch {
          ctx.addIssue({ code: "custom", message: `key ${JSON.stringify(id)} is not a PEM public key` });
          return z.NEVER;
        }
        // ECDSA only: the signature header is an ECDSA-SHA256 signature; an RSA key here is a mistake to catch at start.
        if (key.asymmetricKeyType !== "ec") {
          ctx.addIssue({ code: "custom", message: `key ${JSON.stringify(id)} must be an ECDSA (EC) public key` });
          return z.NEVER;
        }
        keys.set(id, key);
      }
      return keys;
    });
