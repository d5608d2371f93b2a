-- Usage aggregates (GET /api/v1/keys/usage) read rollups, never usage.events:
-- one row per (owner, mode, UTC hour or day, key, endpoint, method, status)
-- with the call count and a histogram of durations. The writer keeps them in
-- the same statement that inserts the events, which commits with exactly
-- those rows or not at all, so a redelivered event is never counted twice.
--
-- Histogram: 34 counters. Bucket 0 holds durations <= 1 ms; bucket i (1..32)
-- holds (2^((i-1)/2), 2^(i/2)] ms, i.e. a factor of sqrt(2) per bucket up to
-- 65.5 s; bucket 33 holds anything longer. An event without a duration counts
-- in `count` and in no bucket. Percentiles are read as the upper bound of the
-- bucket they fall in (services/usage/src/aggregate/histogram.ts).
-- Not strict, so that Postgres inlines it; the JS twin is durationBucket in
-- services/usage/src/aggregate/rollup.ts (the writer builds histograms there).
create function usage.duration_bucket(d double precision) returns int
  language sql immutable parallel safe
  as $$ select case when d is null then null when d <= 1 then 0 else least(33, ceil(2 * ln(d) / ln(2)))::int end $$;

-- The aggregate that builds a histogram from bucket numbers (null: no duration, skipped).
create function usage.hist_inc(h int8[], b int) returns int8[]
  language plpgsql immutable strict parallel safe
  as $$ begin h[b + 1] := h[b + 1] + 1; return h; end $$;
create aggregate usage.duration_hist(int) (
  sfunc = usage.hist_inc,
  stype = int8[],
  initcond = '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'
);

-- Element-wise sum of two histograms: a rollup row meeting more events, or hours summed into a day.
create function usage.hist_add(a int8[], b int8[]) returns int8[]
  language sql immutable strict parallel safe
  as $$ select array_agg(x + y order by i) from unnest(a, b) with ordinality as t(x, y, i) $$;
create aggregate usage.hist_sum(int8[]) (sfunc = usage.hist_add, stype = int8[]);

create table usage.rollup_hourly (
  owner_id    text not null,
  mode        text not null,
  bucket      timestamptz not null,
  key_id      text not null,
  endpoint    text not null,
  method      text not null,
  status_code int not null,
  count       bigint not null,
  hist        int8[] not null
) with (fillfactor = 50);
create table usage.rollup_daily (like usage.rollup_hourly) with (fillfactor = 50);
-- Every batch updates the rollup rows of the current hour and day: free room
-- on each page (fillfactor 50) lets those be HOT updates, which skip the index.
-- The endpoint enters the unique key as its md5: an owner id (up to 1 KB of
-- UTF-8) plus an endpoint (up to 2 KB) could pass btree's ~2.7 KB entry limit,
-- and a refused rollup row would refuse the whole batch of events.
-- Reads are ranges of (owner_id, mode, bucket), the leading columns.
create unique index rollup_hourly_uq on usage.rollup_hourly (owner_id, mode, bucket, key_id, method, status_code, md5(endpoint));
create unique index rollup_daily_uq on usage.rollup_daily (owner_id, mode, bucket, key_id, method, status_code, md5(endpoint));

-- Rebuilds both rollup tables from usage.events: the backfill of rows stored
-- before this migration, and a repair for operators (and the benchmark, whose
-- bulk-loaded rows bypass the writer). It blocks ingestion while it runs
-- (SHARE lock on usage.events), so no batch is lost or counted twice.
create function usage.rebuild_rollups() returns void language plpgsql as $$
begin
  lock table usage.events in share mode;
  truncate usage.rollup_hourly, usage.rollup_daily;
  insert into usage.rollup_hourly (owner_id, mode, bucket, key_id, endpoint, method, status_code, count, hist)
    select owner_id, mode, date_trunc('hour', ts, 'UTC'), key_id, endpoint, method, status_code, count(*),
           usage.duration_hist(usage.duration_bucket(duration_ms))
    from usage.events group by 1, 2, 3, 4, 5, 6, 7;
  insert into usage.rollup_daily (owner_id, mode, bucket, key_id, endpoint, method, status_code, count, hist)
    select owner_id, mode, date_trunc('day', bucket, 'UTC'), key_id, endpoint, method, status_code, sum(count), usage.hist_sum(hist)
    from usage.rollup_hourly group by 1, 2, 3, 4, 5, 6, 7;
  analyze usage.rollup_hourly;
  analyze usage.rollup_daily;
end $$;

select usage.rebuild_rollups();
