-- The revocation poll (verify/revocation-poll.ts) reads recent revocations
-- every second; this keeps that read an index range scan.
create index if not exists api_keys_revoked_at on keys.api_keys (revoked_at) where revoked_at is not null;
