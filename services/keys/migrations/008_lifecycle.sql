-- Changes the system makes (issue 13): a key's expiry passing, a rotated-out
-- key's grace ending, a slot's quota usage reaching 80% and 100%. Nobody's
-- request makes them, so the lifecycle sweep (services/keys/src/lifecycle)
-- finds them and records each one once: its audit entry, its key event and
-- the marker below commit in one transaction, so a replica that crashes
-- before the commit leaves the change for the next round, and one that
-- commits leaves nothing to record twice.

-- The expires_at value whose passing was recorded. A value, not a flag: a
-- PATCH that moves the expiry of an expired key makes it due again.
alter table keys.api_keys add column if not exists expiry_recorded_for timestamptz;
-- When the end of the key's rotation grace was recorded.
alter table keys.api_keys add column if not exists grace_recorded_at timestamptz;

-- What is already past when this migration runs is history before the audit
-- log: not invented now (a fresh database has no rows here).
update keys.api_keys set expiry_recorded_for = expires_at where expires_at <= now();
update keys.api_keys set grace_recorded_at = now()
  where status = 'REVOKED' and grace_until is not null and (grace_until <= now() or expires_at <= now());

-- Only the keys whose expiry is still to record are in the index, so a round
-- costs a range read of the due ones, however many keys there are. A key
-- revoked after it had expired (generate replaces an expired key) is still
-- due; one revoked before its expiry never expires as an active key.
create index if not exists api_keys_expiry_due on keys.api_keys (expires_at)
  where expires_at is not null and expiry_recorded_for is distinct from expires_at and (status = 'ACTIVE' or revoked_at > expires_at);

-- The keys in a grace period now (a handful per rotating owner). A key whose
-- own expiry came before its rotation (its grace was void) has no grace to end.
create index if not exists api_keys_grace_due on keys.api_keys (grace_until)
  where status = 'REVOKED' and grace_until is not null and grace_recorded_at is null and (expires_at is null or expires_at > revoked_at);

-- Quota thresholds of a slot's period, on `used` (the units the guards report
-- spent: quota.used in GET). `reached` is computed by Postgres on every write
-- of the row, so the take statement stays as it was: 0 below 80%, 1 from 80%,
-- 2 from 100% of the limit. `reached_recorded` is the highest level recorded;
-- a limit raised later can lower `reached`, never `reached_recorded`, so each
-- threshold of a period is recorded at most once. The two columns appear only
-- in the predicate of the index below, and `reached` changes at most twice a
-- period: every other update of a take stays a HOT update (measured).
alter table keys.limit_quota
  add column if not exists reached smallint generated always as (case when used >= lim then 2 when used * 5 >= lim * 4 then 1 else 0 end) stored,
  add column if not exists reached_recorded smallint not null default 0 check (reached_recorded between 0 and 2);

-- Periods already over are history; a running period past a threshold is recorded by the first round.
update keys.limit_quota set reached_recorded = reached where end_ms <= (extract(epoch from now()) * 1000)::bigint and reached > reached_recorded;

create index if not exists limit_quota_reached_due on keys.limit_quota (end_ms) where reached > reached_recorded;
