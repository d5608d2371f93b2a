import { Elysia } from "elysia";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import {
  AppError,
  hashKey,
  LEAK_REPORT_MAX_BYTES,
  LEAK_REPORT_MAX_ENTRIES,
  LeakReport,
  LeakReportResponse,
  REVOKE_BY_VALUE_MESSAGE,
  RevokeByValueBody,
  RevokeByValueResponse,
  type LeakVerdict,
} from "@riskinmind/contracts";
import { redactSecrets } from "@riskinmind/runtime";
import type { RequestMeta } from "../audit/record";
import { errorResponses, inline } from "../docs";
import type { RateLimiter } from "../ratelimit";
import type { LeakReportKeys } from "./config";
import { recordedText, revokeLeaked, type LeakDeps } from "./revoke";
import { checkSignature, reportSigner } from "./signature";

export const LEAKS_PATH = "/api/v1/keys/leaks";
export const REVOKE_BY_VALUE_PATH = "/api/v1/keys/revoke-by-value";

/** Bodies these routes read unparsed (httpBasics' rawBodyRoutes): the signature covers the exact bytes. */
export const LEAK_RAW_BODY_ROUTES: Record<string, number> = { [LEAKS_PATH]: LEAK_REPORT_MAX_BYTES };

export interface LeakRoutesDeps extends LeakDeps {
  /** LEAK_REPORT_PUBLIC_KEYS. */
  reportKeys: LeakReportKeys;
  /** Revoke-by-value requests per client address (REVOKE_BY_VALUE_PER_MINUTE). */
  byValueLimiter: RateLimiter;
}

interface PeerServer {
  requestIP(r: Request): { address: string } | null;
}

/** The TCP peer: X-Forwarded-For is anyone's to write, so it never picks the rate-limit bucket. */
const peerOf = (request: Request, server: PeerServer | null | undefined): string | null => server?.requestIP(request)?.address ?? null;

const checkReport = TypeCompiler.Compile(LeakReport);

function requestMeta(request: Request, server: PeerServer | null | undefined, headers: Record<string, unknown>): RequestMeta {
  // httpBasics made the request id at the first hook and keeps it as the x-request-id response header.
  const id = headers["x-request-id"];
  const requestId = typeof id === "string" ? id : null;
  const ua = request.headers.get("user-agent");
  return { ip: peerOf(request, server), userAgent: ua === null ? null : redactSecrets(ua.slice(0, 200)), requestId };
}

/**
 * What replaces the JWT check before the body for these two anonymous routes
 * (edge.ts beforeBody, by route pattern): a leak report must name a known
 * signing key and carry a signature, and a revoke-by-value caller spends one
 * of its address's tokens. Every other route still needs a JWT.
 */
export function leakGates(deps: LeakRoutesDeps): Record<string, (request: Request, server: PeerServer | null) => void> {
  return {
    [LEAKS_PATH]: (request) => void reportSigner(deps.reportKeys, request.headers),
    [REVOKE_BY_VALUE_PATH]: (request, server) => deps.byValueLimiter.take(`addr:${peerOf(request, server) ?? "unknown"}`),
  };
}

/** The signed report as matches, or 400: after the signature, so only a trusted reporter learns why. */
function parseReport(body: unknown): LeakReport {
  const bytes = body instanceof Uint8Array ? body : new Uint8Array(0);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new AppError("MALFORMED_JSON", "The leak report is not valid JSON.");
  }
  if (Array.isArray(parsed) && parsed.length > LEAK_REPORT_MAX_ENTRIES) {
    throw new AppError("VALIDATION_ERROR", `A leak report holds at most ${LEAK_REPORT_MAX_ENTRIES} matches.`);
  }
  if (!checkReport.Check(parsed)) {
    const first = checkReport.Errors(parsed).First();
    throw new AppError("VALIDATION_ERROR", `Invalid leak report${first?.path ? ` at '${first.path}'` : ""}: expected an array of {token, type, url, source} strings.`);
  }
  return parsed;
}

/**
 * POST /api/v1/keys/leaks (GitHub's secret-scanning partner format, signed by
 * the reporter) and POST /api/v1/keys/revoke-by-value (anyone holding a key):
 * no JWT, their gates are leakGates.
 */
export function leakRoutes(deps: LeakRoutesDeps) {
  return new Elysia({ prefix: "/api/v1/keys" })
    .post(
      "/leaks",
      async ({ request, body, server, set }) => {
        // Again here: a request without a body never passed the gate.
        const signer = reportSigner(deps.reportKeys, request.headers);
        const bytes = body instanceof Uint8Array ? body : new Uint8Array(0);
        checkSignature(signer, bytes);
        const report = parseReport(bytes);
        // A token reported twice is revoked once, recorded with where it was first found.
        const context = new Map<string, (typeof report)[number]>();
        for (const m of report) if (!context.has(m.token)) context.set(m.token, m);
        const ours = await revokeLeaked(deps, {
          tokens: report.map((m) => m.token),
          actor: { type: "reporter", id: `github:${signer.keyId}` },
          request: requestMeta(request, server, set.headers),
          context: (token) => {
            const m = context.get(token)!;
            return { source: recordedText(m.source), url: recordedText(m.url) };
          },
        });
        return report.map((m): LeakVerdict => {
          const hash = hashKey(m.token).toString("hex");
          return { token_hash: hash, token_type: m.type, label: ours.has(hash) ? "true_positive" : "false_positive" };
        });
      },
      {
        response: { 200: inline(LeakReportResponse), ...errorResponses(400, 401, 408, 413, 503) },
        detail: {
          summary: "Report leaked keys (GitHub secret-scanning partner format, ECDSA-signed); every active key found is revoked at once",
          description:
            "Body: a JSON array of at most 1,000 `{token, type, url, source}`. Headers `Github-Public-Key-Identifier` (a key of LEAK_REPORT_PUBLIC_KEYS) and `Github-Public-Key-Signature` (base64 DER ECDSA-SHA256 over the exact body bytes). The answer labels each match in order and never names an owner or a key.",
          tags: ["leaks"],
        },
      },
    )
    .post(
      "/revoke-by-value",
      async ({ request, body, server, set, status }) => {
        await revokeLeaked(deps, {
          tokens: body.credentials,
          actor: { type: "reporter", id: "revoke-by-value" },
          request: requestMeta(request, server, set.headers),
        });
        return status(202, { success: true as const, message: REVOKE_BY_VALUE_MESSAGE });
      },
      {
        body: inline(RevokeByValueBody),
        response: { 202: inline(RevokeByValueResponse), ...errorResponses(400, 408, 413, 415, 429, 503) },
        detail: {
          summary: "Revoke keys by value: anyone who found a key can end it; the answer is the same whatever was sent",
          tags: ["leaks"],
        },
      },
    );
}
