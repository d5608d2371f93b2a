import { errFields, type Logger, type Sql } from "@riskinmind/runtime";
import type { SecretBox } from "./secret-box";
import { signatureHeaders } from "./sign";
import { postPinned, resolveTarget } from "./url-policy";

export interface WorkerOptions {
  /** Waits before retries 1, 2, …; after the last one fails the delivery is failed. */
  scheduleMs: number[];
  timeoutMs: number;
  concurrency: number;
  pollMs: number;
  allowPrivate: boolean;
}

interface Claimed {
  id: string;
  lease: string;
  event_id: string;
  body: string;
  endpoint_id: string;
  url: string;
  secret_enc: Buffer;
  attempts: number;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
  /** No retry whatever the schedule says (a target refused by the SSRF policy). */
  final: boolean;
}

const EXCERPT_BYTES = 1024;
const USER_AGENT = "RiskInMind-Webhooks/1";
/** A claimed row becomes due again after this much more than the timeout (its replica died mid-attempt). */
const LEASE_MARGIN_MS = 30_000;

/**
 * The delivery loop of one replica: claims due deliveries (skip locked, so
 * replicas share them), POSTs each with its signature, records the attempt
 * and schedules the next one. At most `concurrency` attempts in flight; no
 * database connection or transaction is held while a receiver answers.
 * Nothing here runs in a request's path: a slow or dead receiver only
 * occupies this loop's slots.
 */
export class DeliveryWorker {
  private readonly inflight = new Set<Promise<void>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticking = false;
  private again = false;
  private stopping = false;
  private abort = new AbortController();

  constructor(
    private readonly d: { sql: Sql; log: Logger; box: SecretBox },
    private readonly o: WorkerOptions,
  ) {}

  start(): void {
    this.stopping = false;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    this.nudge();
  }

  /** Looks for due deliveries now (new rows were inserted). */
  nudge(): void {
    if (this.stopping) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    void this.tick();
  }

  /** Stops claiming, aborts attempts in flight and gives their deliveries back (due at once, for any replica). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await Promise.allSettled([...this.inflight]);
    while (this.ticking) await Bun.sleep(5);
  }

  private async tick(): Promise<void> {
    this.ticking = true;
    let waitMs = this.o.pollMs;
    try {
      do {
        this.again = false;
        const free = this.o.concurrency - this.inflight.size;
        if (free <= 0) break;
        const rows = await this.claim(free);
        for (const r of rows) this.launch(r);
        if (rows.length === free) this.again = true;
      } while (this.again && !this.stopping);
      waitMs = await this.untilNextDue();
    } catch (err) {
      this.d.log.warn({ ...errFields(err) }, "webhook deliveries not claimed; will retry");
    } finally {
      this.ticking = false;
    }
    // A nudge that came while this tick was finishing is not lost: look again at once.
    if (!this.stopping) this.timer = setTimeout(() => this.nudge(), this.again ? 0 : waitMs);
  }

  private launch(row: Claimed): void {
    const p: Promise<void> = this.attempt(row)
      .catch((err) => this.d.log.error({ ...errFields(err), deliveryId: row.id }, "webhook attempt not recorded"))
      .finally(() => {
        this.inflight.delete(p);
        this.nudge();
      });
    this.inflight.add(p);
  }

  private async claim(n: number): Promise<Claimed[]> {
    const leaseMs = this.o.timeoutMs + LEASE_MARGIN_MS;
    return this.d.sql<Claimed[]>`
      with due as (
        select d.id from keys.webhook_deliveries d
        where d.status = 'pending' and d.next_attempt_at <= now()
        order by d.next_attempt_at limit ${n} for update of d skip locked)
      update keys.webhook_deliveries d
      set lease = gen_random_uuid(), next_attempt_at = now() + ${leaseMs} * interval '1 millisecond'
      from due, keys.webhook_endpoints e
      where d.id = due.id and e.id = d.endpoint_id and e.deleted_at is null
      returning d.id::text as id, d.lease::text as lease, d.event_id, d.body, d.attempts, e.id as endpoint_id, e.url, e.secret_enc`;
  }

  private async untilNextDue(): Promise<number> {
    const [r] = await this.d.sql<{ ms: number | null }[]>`
      select greatest(0, extract(epoch from min(next_attempt_at) - now()) * 1000)::float8 as ms
      from keys.webhook_deliveries where status = 'pending'`;
    return r?.ms == null ? this.o.pollMs : Math.min(this.o.pollMs, Math.ceil(r.ms));
  }

  private async attempt(row: Claimed): Promise<void> {
    const at = new Date();
    const started = performance.now();
    const outcome = await this.send(row);
    if (outcome === "stopped") {
      await this.d.sql`update keys.webhook_deliveries set next_attempt_at = now(), lease = null where id = ${row.id} and lease = ${row.lease}::uuid`;
      return;
    }
    const durationMs = Math.round(performance.now() - started);
    const n = row.attempts + 1;
    const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const retryIn = ok || outcome.final || n > this.o.scheduleMs.length ? null : jitter(this.o.scheduleMs[n - 1]!);
    const status = ok ? "delivered" : retryIn === null ? "failed" : "pending";
    await this.d.sql.begin(async (tx) => {
      // Only while our lease holds: a row whose lease ran out belongs to whoever claimed it next.
      const updated = await tx`
        update keys.webhook_deliveries set attempts = ${n}, status = ${status}, lease = null,
          next_attempt_at = ${retryIn === null ? null : new Date(Date.now() + retryIn)}
        where id = ${row.id} and lease = ${row.lease}::uuid returning id`;
      if (updated.length === 0) return;
      await tx`
        insert into keys.webhook_attempts (delivery_id, attempt_no, at, status_code, error, duration_ms, response_excerpt)
        values (${row.id}, ${n}, ${at}, ${outcome.statusCode}, ${outcome.error}, ${durationMs}, ${outcome.excerpt})`;
    });
    if (status === "failed") this.d.log.warn({ endpointId: row.endpoint_id, eventId: row.event_id, attempts: n }, "webhook delivery failed");
  }

  private async send(row: Claimed): Promise<Outcome | "stopped"> {
    const target = await resolveTarget(row.url, this.o.allowPrivate);
    if (!target.ok) return { statusCode: null, error: target.reason, excerpt: null, final: target.final };
    let secret: Buffer;
    try {
      secret = this.d.box.open(row.endpoint_id, row.secret_enc);
    } catch {
      // WEBHOOK_SECRETS_KEY (or JWT_SECRET) changed since registration: no retry can sign it.
      return { statusCode: null, error: "signing secret cannot be decrypted (the secrets key changed); register the endpoint again", excerpt: null, final: true };
    }
    const headers = { ...signatureHeaders(secret, row.event_id, Math.floor(Date.now() / 1000), row.body), "content-type": "application/json", "user-agent": USER_AGENT };
    secret.fill(0);
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    try {
      const res = await postPinned(row.url, target.address, { method: "POST", body: row.body, headers, redirect: "manual", signal: AbortSignal.any([timeout, this.abort.signal]) });
      const excerpt = await readExcerpt(res);
      return { statusCode: res.status, error: null, excerpt, final: false };
    } catch (err) {
      if (this.abort.signal.aborted) return "stopped";
      if (timeout.aborted) return { statusCode: null, error: `timeout after ${this.o.timeoutMs} ms`, excerpt: null, final: false };
      return { statusCode: null, error: describe(err), excerpt: null, final: false };
    }
  }
}

/** ±10 %: replicas' retries of one burst spread out instead of arriving together. */
const jitter = (ms: number): number => Math.round(ms * (0.9 + Math.random() * 0.2));

/** A short, secret-free description of a failed request (no headers, no body). */
function describe(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : typeof e?.name === "string" ? e.name : "Error";
  const msg = typeof e?.message === "string" ? e.message : "";
  return `${code}${msg ? `: ${msg}` : ""}`.slice(0, 200);
}

/** The first KiB of the answer (lossy UTF-8); the rest is not read. */
async function readExcerpt(res: Response): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut short still leaves its status code.
  } finally {
    void reader.cancel().catch(() => {});
  }
  const text = new TextDecoder().decode(Buffer.concat(chunks).subarray(0, EXCERPT_BYTES));
  return text.replaceAll("\u0000", "") || null;
}
