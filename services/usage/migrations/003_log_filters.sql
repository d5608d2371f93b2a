-- Filtered logs (issue 12): one index per filter, each ending in seq (or the
-- time), so the first page of a filtered log is a range read of that index
-- (newest first = highest seq first) and a filtered total is a count over an
-- index, never a walk through the owner's rows. Every index is one more
-- write per ingested row: the set is kept to what the filters need.
--
-- status: `status=429` is a range of one code, a class such as 5xx is a
-- list of codes.
create index events_status_seq on usage.events (owner_id, mode, status_code, seq);
create index events_method_seq on usage.events (owner_id, mode, method, seq);
-- endpoint, exact or by prefix: an endpoint may be 2,048 characters and an
-- owner id 1,020 bytes, beyond a btree entry's limit (~2.7 kB), which would
-- refuse the row at ingestion. The index holds the first 256 characters in
-- the "C" collation (byte order, so a prefix is a plain range); queries
-- recheck the whole endpoint.
create index events_endpoint_seq on usage.events (owner_id, mode, (left(endpoint, 256) collate "C"), seq);
create index events_key_seq on usage.events (owner_id, mode, key_id, seq);
-- from/to: a time range of the owner's log.
create index events_ts on usage.events (owner_id, mode, ts);
