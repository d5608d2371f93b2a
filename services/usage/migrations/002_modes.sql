-- Test keys (issue 11): usage is kept per owner AND key mode. A live key and
-- a test key of one owner read as two separate logs, each with its own total
-- and its own gap-free seq 1..total, so a page stays a primary-key range read
-- at any depth in either mode.
--
-- Every row before this migration is a live key's (test keys did not exist).
-- The default stays so that a constant-default column is added without a
-- table rewrite (Postgres ≥ 11); the writer always names the mode.
alter table usage.events
  add column mode text not null default 'live' check (mode in ('live', 'test'));
-- The primary key is rebuilt with the mode between owner and seq: one index
-- build over the table, done once.
alter table usage.events
  drop constraint events_pkey,
  add constraint events_pkey primary key (owner_id, mode, seq);

alter table usage.owner_counters
  add column mode text not null default 'live' check (mode in ('live', 'test'));
alter table usage.owner_counters
  drop constraint owner_counters_pkey,
  add constraint owner_counters_pkey primary key (owner_id, mode);
