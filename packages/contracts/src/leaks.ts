/**
 * Leaked keys (issue 13): the wire shapes of `POST /api/v1/keys/leaks` (GitHub's
 * secret-scanning partner format, signed by the reporter) and of
 * `POST /api/v1/keys/revoke-by-value` (anyone who found a key, as GitHub's
 * credential revocation API lets anyone revoke a GitHub token).
 */
import { Type, type Static } from "@sinclair/typebox";

/** At most this many matches in one report (GitHub batches its matches). */
export const LEAK_REPORT_MAX_ENTRIES = 1_000;
/** The largest report body read: 1,000 entries of about 1 KiB each; 413 above. */
export const LEAK_REPORT_MAX_BYTES = 1024 * 1024;
/** Bounds of a report's free-text fields: a token is far shorter, a URL or source longer is cut when recorded. */
export const LEAK_TOKEN_MAX_CHARS = 512;
export const LEAK_TEXT_MAX_CHARS = 2_048;
/** What the audit entry keeps of a report's url and source. */
export const LEAK_RECORDED_MAX_CHARS = 500;

/** One match of GitHub's secret scanning: the token, the pattern's name, where it was found. */
export const LeakMatch = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: LEAK_TOKEN_MAX_CHARS }),
    type: Type.String({ maxLength: 200 }),
    url: Type.String({ maxLength: LEAK_TEXT_MAX_CHARS }),
    source: Type.String({ maxLength: 200 }),
  },
  // GitHub may add fields: they are ignored, not refused.
  { additionalProperties: true },
);
export type LeakMatch = Static<typeof LeakMatch>;

export const LeakReport = Type.Array(LeakMatch, { maxItems: LEAK_REPORT_MAX_ENTRIES, $id: "LeakReport" });
export type LeakReport = Static<typeof LeakReport>;

/** true_positive: a key this service issued (any status); false_positive: anything else. */
export const LEAK_LABELS = ["true_positive", "false_positive"] as const;
export type LeakLabel = (typeof LEAK_LABELS)[number];

/** GitHub's feedback shape, one per match in the report's order; it never names an owner or a key id. */
export const LeakVerdict = Type.Object({
  token_hash: Type.String({ description: "hex SHA-256 of the reported token" }),
  token_type: Type.String({ description: "the match's `type`, echoed" }),
  label: Type.Union([Type.Literal("true_positive"), Type.Literal("false_positive")]),
});
export type LeakVerdict = Static<typeof LeakVerdict>;
export const LeakReportResponse = Type.Array(LeakVerdict, { $id: "LeakReportResponse" });

/** Keys in one revoke-by-value request: the 16 KiB body limit holds 100 keys with room to spare. */
export const REVOKE_BY_VALUE_MAX_KEYS = 100;

/** Named after GitHub's `POST /credentials/revoke` body, so a tool written for it needs only the URL changed. */
export const RevokeByValueBody = Type.Object(
  {
    credentials: Type.Array(Type.String({ minLength: 1, maxLength: LEAK_TOKEN_MAX_CHARS }), { minItems: 1, maxItems: REVOKE_BY_VALUE_MAX_KEYS }),
  },
  { additionalProperties: false, $id: "RevokeByValueBody" },
);
export type RevokeByValueBody = Static<typeof RevokeByValueBody>;

/** The one answer of revoke-by-value, whatever the credentials were: it tells nobody whether a key existed. */
export const REVOKE_BY_VALUE_MESSAGE = "Received. Any active API key among these credentials is revoked.";
export const RevokeByValueResponse = Type.Object({ success: Type.Literal(true), message: Type.Literal(REVOKE_BY_VALUE_MESSAGE) }, { $id: "RevokeByValueResponse" });
