/**
 * The wire shapes the console reads, as README's HTTP contract states them
 * (packages/contracts holds the schemas; these are the few fields used here,
 * kept local so the browser bundle pulls in no server code).
 */
export type Mode = "live" | "test";

export interface Envelope<T, M = unknown> {
  success: true;
  data: T;
  meta?: M;
  message?: string;
}

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}
export interface Quota {
  limit: number;
  period: "day" | "month";
  used?: number;
  resetsAt?: string;
}

export interface KeyView {
  keyId: string;
  keySnippet: string;
  status: string;
  createdAt: string;
  label: string | null;
  lastUsedAt: string | null;
  mode: Mode;
  expiresAt: string | null;
  scopes: string[];
  ipAllowlist: string[];
  rateLimit: RateLimit | null;
  quota: Quota | null;
  previousKey: { keyId: string; keySnippet: string; expiresAt: string } | null;
}

export interface IssuedKey extends KeyView {
  apiKey: string;
}

export interface LogRow {
  endpoint: string;
  method: string;
  statusCode: number;
  timestamp: string;
  keyId: string;
  durationMs: number;
}
export interface LogsMeta {
  total: number;
  page: number;
  limit: number;
  nextCursor: string | null;
}

export interface UsageRow {
  bucket: string;
  group: string | null;
  count: number;
  clientErrors: number;
  serverErrors: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface AuditRow {
  id: string;
  action: string;
  keyId: string | null;
  mode: Mode | null;
  actor: { type: string; id: string };
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  at: string;
  changes: unknown;
  prevHash: string;
  hash: string;
}

export interface Webhook {
  id: string;
  url: string;
  events?: string[];
  createdAt?: string;
  secret?: string;
  [k: string]: unknown;
}
export interface Delivery {
  id: string;
  [k: string]: unknown;
}
