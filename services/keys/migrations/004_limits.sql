-- Rate-limit and quota counters (issue 11), per key SLOT (owner + mode), not
-- per key: a rotation does not reset them, and a key in its grace period
-- shares the budget with its successor. Guards lease units in batches
-- (keys.limits.take); `granted` is every unit leased out of the window or
-- period and never exceeds `lim`, so the cluster never accepts more than the
-- limit. Times are epoch milliseconds, computed by the keys service with the
-- same functions the contract exports (rateWindow, quotaWindow).

-- Rate windows last at most an hour and losing them in a crash only resets a
-- window early: UNLOGGED (no WAL on the busiest counter there is).
create unlogged table if not exists keys.limit_rate (
  owner_id   text not null,
  mode       text not null,
  window_s   integer not null,
  start_ms   bigint not null,
  lim        integer not null,
  granted    integer not null check (granted >= 0),
  -- the units the latest take granted (RETURNING shows the row after the update)
  last_grant integer not null,
  primary key (owner_id, mode, window_s, start_ms)
);
create index if not exists limit_rate_start on keys.limit_rate (start_ms);

-- Quotas are billing: logged, they survive a crash.
create table if not exists keys.limit_quota (
  owner_id   text not null,
  mode       text not null,
  period     text not null check (period in ('day', 'month')),
  start_ms   bigint not null,
  end_ms     bigint not null,
  lim        bigint not null,
  granted    bigint not null check (granted >= 0),
  -- units the guards report as spent (≤ granted): quota.used in GET
  used       bigint not null default 0 check (used >= 0),
  last_grant bigint not null,
  primary key (owner_id, mode, period, start_ms)
);
create index if not exists limit_quota_end on keys.limit_quota (end_ms);
