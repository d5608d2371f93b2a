/** The text `bun run dev` prints once everything answers /health. */
export interface BannerInput {
  keysUrl: string;
  usageUrl: string;
  exampleUrl: string;
  postgres: string;
  nats: string;
  token: string;
  tokenSub: string;
}

/**
 * The walkthrough is plain shell: `export` lines and `curl` lines a newcomer
 * can paste, and which the dev end-to-end test runs verbatim.
 */
export function readyBanner(b: BannerInput): string {
  const loan = `'{"amount":250000,"termMonths":360,"annualIncome":95000,"creditScore":720}'`;
  return [
    "",
    "RiskInMind API Keys: development stack is ready",
    `  keys     ${b.keysUrl}   (API /api/v1/keys, docs ${b.keysUrl}/docs, ${b.keysUrl}/openapi.json, ${b.keysUrl}/metrics)`,
    `  usage    ${b.usageUrl}   (/health, /ready, /metrics)`,
    `  example  ${b.exampleUrl}   (POST /api/v1/loans/predict, protected by an API key)`,
    // The token rides in the fragment: browsers never send it, so no server log sees it; the page moves it to session storage.
    `  console  ${b.keysUrl}/console#token=${b.token}   (opens the owners' console signed in as "${b.tokenSub}")`,
    `  postgres ${b.postgres}`,
    `  nats     ${b.nats}`,
    "",
    `Development token (sub "${b.tokenSub}", valid 24 h; make others with: bun run token -- --sub <owner> --ttl 1h):`,
    `export TOKEN=${b.token}`,
    "",
    "# 1. Generate an API key (409 ACTIVE_KEY_EXISTS? you made one before: use /regenerate, or GET /api/v1/keys/ to see it)",
    `curl -s -X POST ${b.keysUrl}/api/v1/keys/generate -H "Authorization: Bearer $TOKEN"`,
    "# Copy data.apiKey from the answer:",
    "export API_KEY=sk_live_...",
    "# 2. Call the example protected API with the key",
    `curl -s -X POST ${b.exampleUrl}/api/v1/loans/predict -H "x-api-key: $API_KEY" -H "content-type: application/json" -d ${loan}`,
    "# 3. Read the usage logs of your keys",
    `curl -s "${b.keysUrl}/api/v1/keys/logs?page=1&limit=10" -H "Authorization: Bearer $TOKEN"`,
    "",
    "Ctrl-C stops everything.",
    "",
  ].join("\n");
}
