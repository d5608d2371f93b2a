-- Audit log and transactional outbox (issue 13).
--
-- keys.audit_log: one row per change of a key, written in the same
-- transaction as the change (services/keys/src/audit/record.ts). Each owner's
-- entries form a chain: seq 1, 2, ... and prev_hash = the previous entry's
-- hash (SHA-256 of its canonical form, audit/chain.ts), so an entry altered,
-- removed or slipped in later breaks the chain (`bun run audit:verify`).
-- The database refuses UPDATE, DELETE and TRUNCATE, and an insert that does
-- not extend its owner's chain.
create table if not exists keys.audit_log (
  id          text primary key,
  owner_id    text not null,
  seq         bigint not null check (seq >= 1),
  action      text not null,
  key_id      text not null,
  mode        text not null check (mode in ('live', 'test')),
  actor_type  text not null check (actor_type in ('owner', 'system', 'reporter')),
  actor_id    text not null,
  ip          text,
  user_agent  text,
  request_id  text,
  at          timestamptz not null,
  changes     jsonb not null,
  prev_hash   bytea check (prev_hash is null or length(prev_hash) = 32),
  hash        bytea not null check (length(hash) = 32),
  unique (owner_id, seq)
);

create or replace function keys.audit_append_only() returns trigger
language plpgsql as $$
begin
  raise exception 'keys.audit_log is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end $$;

drop trigger if exists audit_log_no_update on keys.audit_log;
create trigger audit_log_no_update before update or delete on keys.audit_log
  for each row execute function keys.audit_append_only();
drop trigger if exists audit_log_no_truncate on keys.audit_log;
create trigger audit_log_no_truncate before truncate on keys.audit_log
  for each statement execute function keys.audit_append_only();

-- An insert must extend its owner's chain: seq one past the last entry and
-- prev_hash the last entry's hash (null for the first). Writers hold the
-- owner's advisory lock, so this never refuses them; it refuses a hand-made row.
create or replace function keys.audit_extends_chain() returns trigger
language plpgsql as $$
declare
  last_seq bigint;
  last_hash bytea;
begin
  select seq, hash into last_seq, last_hash from keys.audit_log
  where owner_id = new.owner_id order by seq desc limit 1;
  if new.seq <> coalesce(last_seq, 0) + 1 or new.prev_hash is distinct from last_hash then
    raise exception 'audit entry % does not extend the chain of its owner', new.id using errcode = 'integrity_constraint_violation';
  end if;
  return new;
end $$;

drop trigger if exists audit_log_chain on keys.audit_log;
create trigger audit_log_chain before insert on keys.audit_log
  for each row execute function keys.audit_extends_chain();

-- keys.outbox: the key events of committed changes, written in the same
-- transaction as the change and its audit entry; the publisher
-- (events/outbox.ts) sends each to JetStream (message id = event id) and
-- deletes it once the stream has acknowledged it. A rolled-back change leaves
-- no row; a crash after commit leaves the row for the next publisher.
create table if not exists keys.outbox (
  id          bigserial primary key,
  event_id    text not null unique,
  -- the last token of keys.events.<token> (eventSubjectToken); the prefix is the publisher's
  subject_token text not null,
  payload     jsonb not null,
  created_at  timestamptz not null default now()
);
