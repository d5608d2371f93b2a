-- API keys, stored only as SHA-256 hashes of the plaintext.
create table if not exists keys.api_keys (
  id           text primary key check (id ~ '^key_[0-9A-Za-z]+$'),
  owner_id     text not null check (length(owner_id) between 1 and 255),
  key_hash     bytea not null unique check (length(key_hash) = 32),
  key_last4    text not null check (length(key_last4) = 4),
  label        text check (label is null or length(label) between 1 and 100),
  status       text not null check (status in ('ACTIVE', 'REVOKED')),
  created_at   timestamptz not null default now(),
  revoked_at   timestamptz,
  last_used_at timestamptz,
  check ((status = 'REVOKED') = (revoked_at is not null))
);

-- The policy "one active key per owner" lives in the database, so concurrent
-- generates cannot both win; the service maps a violation to 409.
create unique index if not exists api_keys_one_active_per_owner
  on keys.api_keys (owner_id) where status = 'ACTIVE';
