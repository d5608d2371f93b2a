-- Per-bucket totals beside the rollups (GET /api/v1/keys/usage without a
-- groupBy, the console's chart). The rollups of 004 hold one row per (key,
-- endpoint, method, status) combination, so a bucket's total read there cost
-- one row per combination: an owner with 50 combinations an hour read 36,000
-- rows for 30 days hourly. These hold one row per (owner, mode, bucket), with
-- the call count, the 4xx and 5xx counts and the bucket's duration histogram.
-- The writer bumps them in the same statement as the events and the rollups,
-- so all three commit together or not at all; retention deletes a month of
-- them with the month's rollups.
create table usage.rollup_hourly_total (
  owner_id      text not null,
  mode          text not null,
  bucket        timestamptz not null,
  count         bigint not null,
  client_errors bigint not null,
  server_errors bigint not null,
  hist          int8[] not null,
  primary key (owner_id, mode, bucket)
) with (fillfactor = 50);
create table usage.rollup_daily_total (like usage.rollup_hourly_total including all) with (fillfactor = 50);

-- Rebuilds both totals tables from the rollups (the backfill below, the
-- repair in rebuild_rollups, and the benchmark's synthetic rollups).
create function usage.rebuild_rollup_totals() returns void language plpgsql as $$
begin
  lock table usage.rollup_hourly, usage.rollup_daily in share mode;
  truncate usage.rollup_hourly_total, usage.rollup_daily_total;
  insert into usage.rollup_hourly_total (owner_id, mode, bucket, count, client_errors, server_errors, hist)
    select owner_id, mode, bucket, sum(count), coalesce(sum(count) filter (where status_code between 400 and 499), 0),
           coalesce(sum(count) filter (where status_code between 500 and 599), 0), usage.hist_sum(hist)
    from usage.rollup_hourly group by 1, 2, 3;
  insert into usage.rollup_daily_total (owner_id, mode, bucket, count, client_errors, server_errors, hist)
    select owner_id, mode, bucket, sum(count), coalesce(sum(count) filter (where status_code between 400 and 499), 0),
           coalesce(sum(count) filter (where status_code between 500 and 599), 0), usage.hist_sum(hist)
    from usage.rollup_daily group by 1, 2, 3;
  analyze usage.rollup_hourly_total;
  analyze usage.rollup_daily_total;
end $$;

-- The repair rebuilds the totals too: 004's function keeps its body under a
-- new name, and usage.rebuild_rollups() runs it, then the totals.
alter function usage.rebuild_rollups() rename to rebuild_rollup_rows;
create function usage.rebuild_rollups() returns void language plpgsql as $$
begin
  perform usage.rebuild_rollup_rows();
  perform usage.rebuild_rollup_totals();
end $$;

select usage.rebuild_rollup_totals();
