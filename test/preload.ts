/**
 * Where the tests' Postgres and NATS come from. With DATABASE_URL and NATS_URL
 * set, those are used. (Issue 4 adds: with them unset, an embedded Postgres and
 * a nats-server child started for the run.)
 */
process.env.DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/postgres";
process.env.NATS_URL ??= "nats://127.0.0.1:4222";
