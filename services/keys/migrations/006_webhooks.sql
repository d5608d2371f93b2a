-- Webhooks (issue 13): owners' endpoints, one delivery per (endpoint, event),
-- and every attempt of every delivery.
--
-- keys.webhook_endpoints: the signing secret is stored encrypted
-- (AES-256-GCM, webhooks/secret-box.ts: 12-byte IV || ciphertext || 16-byte
-- tag, the endpoint id as associated data): it must be recoverable to sign,
-- so it cannot be a hash like an API key. A delete is soft (deleted_at), so
-- the deliveries already made keep their endpoint.
create table if not exists keys.webhook_endpoints (
  id          text primary key,
  owner_id    text not null,
  url         text not null,
  events      text[] not null check (cardinality(events) >= 1),
  mode        text not null check (mode in ('live', 'test')),
  description text,
  secret_enc  bytea not null,
  created_at  timestamptz not null default now(),
  deleted_at  timestamptz
);
create index if not exists webhook_endpoints_owner on keys.webhook_endpoints (owner_id, mode) where deleted_at is null;

-- keys.webhook_deliveries: the dispatcher inserts one row per matching
-- endpoint of an event's owner before it acks the stream message; the unique
-- pair makes a redelivered message insert nothing. The delivery loop claims
-- due rows (next_attempt_at <= now(), skip locked) by moving next_attempt_at
-- past the attempt's timeout and setting lease: no transaction stays open
-- while a receiver answers, and a replica that dies mid-attempt leaves a row
-- that becomes due again when its lease ends.
create table if not exists keys.webhook_deliveries (
  id              bigserial primary key,
  endpoint_id     text not null references keys.webhook_endpoints (id),
  event_id        text not null,
  event_type      text not null,
  -- the event JSON exactly as the stream carried it: the bytes signed and sent
  body            text not null,
  status          text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts        integer not null default 0,
  next_attempt_at timestamptz,
  lease           uuid,
  created_at      timestamptz not null default now(),
  unique (endpoint_id, event_id)
);
create index if not exists webhook_deliveries_due on keys.webhook_deliveries (next_attempt_at) where status = 'pending';
create index if not exists webhook_deliveries_endpoint on keys.webhook_deliveries (endpoint_id, id desc);

-- keys.webhook_attempts: one row per HTTP attempt (or a refusal before one).
create table if not exists keys.webhook_attempts (
  id           bigserial primary key,
  delivery_id  bigint not null references keys.webhook_deliveries (id),
  attempt_no   integer not null check (attempt_no >= 1),
  at           timestamptz not null,
  status_code  integer,
  error        text,
  duration_ms  integer not null,
  response_excerpt text,
  unique (delivery_id, attempt_no)
);
