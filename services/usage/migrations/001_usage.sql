-- Usage events, one row per recorded API call.
-- seq is a per-owner ordinal 1..total assigned at ingestion (gap-free, in the
-- same transaction that bumps owner_counters.total), so page p of size L is
-- the primary-key range seq between total-p*L+1 and total-(p-1)*L: an index
-- range read at any depth, and total is one row, never a count(*).
create table usage.events (
  owner_id    text not null,
  seq         bigint not null,
  event_key   text not null,
  key_id      text not null,
  endpoint    text not null,
  method      text not null,
  status_code int not null,
  ts          timestamptz not null,
  duration_ms double precision null,
  primary key (owner_id, seq)
);

-- Idempotency: `i:<event id>` or `s:<stream created>:<stream seq>:<index>`;
-- a redelivered message or a re-sent event never makes a second row.
create unique index events_event_key_uq on usage.events (event_key);

create table usage.owner_counters (
  owner_id text primary key,
  total    bigint not null
);
