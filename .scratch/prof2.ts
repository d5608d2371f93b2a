import postgres from "postgres";
const sql = postgres("postgres://postgres@127.0.0.1:5432/rim_bench_erqx6c45a", { max: 2, onnotice: () => {} });
const W = `from usage.events where owner_id = $1 and mode = 'live' and seq < $2::int8 order by seq desc limit 5001`;
const variants: Record<string, string> = {
  current: `select seq, endpoint, method, status_code, ts, key_id, duration_ms ${W}`,
  seqonly: `select seq ${W}`,
  tsText: `select seq, endpoint, method, status_code, ts::text as ts, key_id, duration_ms ${W}`,
  tsMs: `select seq, endpoint, method, status_code, (extract(epoch from ts)*1000)::float8 as ts, key_id, duration_ms ${W}`,
  tsChar: `select seq, endpoint, method, status_code, to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ts, key_id, duration_ms ${W}`,
};
for (let rep = 0; rep < 2; rep++)
for (const [name, q] of Object.entries(variants)) {
  const n = 30;
  let s = performance.now();
  for (let i = 0; i < n; i++) await sql.unsafe(q, ["heavy_owner", 2_000_000 - i * 5000] as never[], { prepare: false });
  const unprep = (performance.now() - s) / n;
  s = performance.now();
  for (let i = 0; i < n; i++) await sql.unsafe(q, ["heavy_owner", 2_000_000 - i * 5000] as never[], { prepare: true });
  const prep = (performance.now() - s) / n;
  s = performance.now();
  for (let i = 0; i < n; i++) await sql.unsafe(q, ["heavy_owner", 2_000_000 - i * 5000] as never[], { prepare: false }).raw();
  const raw = (performance.now() - s) / n;
  console.log(name.padEnd(10), "unprepared", unprep.toFixed(2), "prepared", prep.toFixed(2), "raw", raw.toFixed(2));
}
await sql.end();
