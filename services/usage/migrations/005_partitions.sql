-- Time-partitioned usage rows (issue 12, storage): usage.events becomes a
-- declaratively partitioned table, RANGE on ts, one partition per UTC month
-- named usage.events_yYYYYmMM. Retention then drops whole partitions (never
-- a DELETE of usage rows), and each month's indexes stay the size of a month.
--
-- The partition key must be part of every unique index, so:
-- - the primary key is (owner_id, mode, seq, ts): seq alone stays unique per
--   (owner, mode) because the writer numbers rows from the owner's counter;
-- - idempotency is unique (event_key, ts). A redelivered or re-sent event
--   carries the same timestamp, so it lands in the same partition and meets
--   its twin there, also right at a partition boundary. An id re-sent with a
--   DIFFERENT timestamp is a different row (it was a duplicate before).
--
-- There is no DEFAULT partition: a default partition holding rows of a month
-- would forbid creating that month's partition. Partitions are created ahead
-- instead, by usage.ensure_partitions (the usage service calls it at start
-- and hourly); an insert that finds no partition waits and is retried.

-- Creates (idempotently) the monthly partitions of every month from the one
-- holding from_ts to the one holding to_ts. Each is created as a plain table
-- and then attached: ATTACH takes a SHARE UPDATE EXCLUSIVE lock on
-- usage.events, which neither inserts nor reads wait for, where CREATE TABLE
-- ... PARTITION OF would queue an ACCESS EXCLUSIVE lock behind a long read
-- (an export) and stall ingestion behind it. Serialised by an advisory lock,
-- so replicas starting together do not race on a name.
create function usage.ensure_partitions(from_ts timestamptz, to_ts timestamptz) returns int
language plpgsql as $$
declare
  m timestamp := date_trunc('month', from_ts at time zone 'UTC');
  last timestamp := date_trunc('month', to_ts at time zone 'UTC');
  part text;
  made int := 0;
begin
  perform pg_advisory_xact_lock(hashtext('usage.ensure_partitions'));
  while m <= last loop
    part := 'events_y' || to_char(m, 'YYYY') || 'm' || to_char(m, 'MM');
    if to_regclass(format('usage.%I', part)) is null then
      execute format('create table usage.%I (like usage.events including defaults including constraints)', part);
      -- Bounds written with an explicit UTC offset: independent of the session's TimeZone.
      execute format('alter table usage.events attach partition usage.%I for values from (%L) to (%L)', part,
        to_char(m, 'YYYY-MM-DD HH24:MI:SS') || '+00', to_char(m + interval '1 month', 'YYYY-MM-DD HH24:MI:SS') || '+00');
      made := made + 1;
    end if;
    m := m + interval '1 month';
  end loop;
  return made;
end $$;

alter table usage.events rename to events_unpartitioned;

-- Same columns in the same order (mode last, as 002 added it): `select *`
-- and positional copies read as before.
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
  mode        text not null default 'live' constraint events_mode_check check (mode in ('live', 'test'))
) partition by range (ts);

-- Every month the existing rows need, contiguous up to two months ahead, and
-- from 8 days back (EVENT_MAX_AGE_MS, packages/contracts/src/usage.ts): the
-- table takes any ingestible event right after migrating, before the service
-- has ensured anything itself.
select usage.ensure_partitions(least(min(ts), now() - interval '8 days'), now() + interval '2 months')
from usage.events_unpartitioned;

insert into usage.events select * from usage.events_unpartitioned;
drop table usage.events_unpartitioned;

-- Indexes built once over the copied rows (on the parent: every partition
-- gets its own, and partitions attached later get them on attach).
alter table usage.events add constraint events_pkey primary key (owner_id, mode, seq, ts);
create unique index events_event_key_uq on usage.events (event_key, ts);
-- The filter indexes of 003, unchanged.
create index events_status_seq on usage.events (owner_id, mode, status_code, seq);
create index events_method_seq on usage.events (owner_id, mode, method, seq);
create index events_endpoint_seq on usage.events (owner_id, mode, (left(endpoint, 256) collate "C"), seq);
create index events_key_seq on usage.events (owner_id, mode, key_id, seq);
create index events_ts on usage.events (owner_id, mode, ts);
-- A partitioned parent is never analyzed by autovacuum (its partitions are).
analyze usage.events;

-- Retention (services/usage/src/storage/retention.ts): before a partition is
-- dropped, its rows per (owner, mode) are added to `dropped`. The counter's
-- total stays the highest seq handed out (the writer numbers from it); the
-- log's size is total - dropped.
alter table usage.owner_counters add column dropped bigint not null default 0;

-- One row per partition retired: written in the transaction that counts its
-- rows into owner_counters.dropped, so a sweep interrupted before the drop
-- never counts them twice when it runs again.
create table usage.retired_partitions (
  name       text primary key,
  lower      timestamptz not null,
  upper      timestamptz not null,
  rows       bigint not null,
  retired_at timestamptz not null default now()
);
