-- Key policies (issue 11): mode, expiry, scopes, IP allowlist, rate limit,
-- quota, and the grace period of a rotated-out key.
alter table keys.api_keys
  add column mode text not null default 'live' check (mode in ('live', 'test')),
  add column expires_at timestamptz,
  add column scopes text[] not null default '{*}' check (cardinality(scopes) between 1 and 32),
  add column ip_allowlist text[] not null default '{}' check (cardinality(ip_allowlist) <= 100),
  add column rate_limit integer check (rate_limit between 1 and 1000000),
  add column rate_window_s integer check (rate_window_s between 1 and 3600),
  add column quota_limit integer check (quota_limit between 1 and 1000000000),
  add column quota_period text check (quota_period in ('day', 'month')),
  -- The UTC day of the month the quota was set: a monthly quota resets then (clamped to the month's end).
  add column quota_anchor_day smallint check (quota_anchor_day between 1 and 31),
  -- A key rotated out with a grace period: REVOKED, yet still accepted until then.
  add column grace_until timestamptz,
  -- When anything that changes a verification's answer last changed (policy,
  -- revocation, grace): the change poll re-announces rows changed recently.
  add column changed_at timestamptz not null default now(),
  add constraint api_keys_rate_pair check ((rate_limit is null) = (rate_window_s is null)),
  add constraint api_keys_quota_triple check ((quota_limit is null) = (quota_period is null) and (quota_period is null) = (quota_anchor_day is null));

-- One active key per owner AND mode: a live key and a test key side by side.
drop index if exists keys.api_keys_one_active_per_owner;
create unique index if not exists api_keys_one_active_per_owner_mode on keys.api_keys (owner_id, mode) where status = 'ACTIVE';

-- The change poll (events/change-poll.ts) replaces the revocation poll.
drop index if exists keys.api_keys_revoked_at;
create index if not exists api_keys_changed_at on keys.api_keys (changed_at);
