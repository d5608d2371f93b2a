/** Row group 5: GET /api/v1/keys/ (JWT check + lookup) vs an Elysia hello-world, same load. */
import type { Ctx } from "../lib/context";
import { httpLoad } from "../lib/http-load";
import { keyOwner } from "../lib/keys";
import { row, type Row } from "../lib/table";
import { alternate, combine } from "../lib/alternate";
import { token } from "@riskinmind/testkit";

const ROUNDS = 3;

export async function managementRows(ctx: Ctx): Promise<Row[]> {
  const jwt = await token(keyOwner(2));
  const url = `${ctx.keys.url}/api/v1/keys/`;
  const headers = { authorization: `Bearer ${jwt}` };
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`GET /api/v1/keys/ answered ${res.status}: ${await res.text()}`);
  const d = ctx.sizes.httpS / ROUNDS;
  const [helloRounds, mgmtRounds] = await alternate(
    ROUNDS,
    () => httpLoad({ url: `${ctx.hello.url}/hello`, headers, durationS: d }),
    () => httpLoad({ url, headers, durationS: d }),
  );
  const hello = combine(helloRounds);
  const mgmt = combine(mgmtRounds);
  ctx.log(`management: ${mgmt.rps.toFixed(0)}/s (p99 ${mgmt.p99} ms) vs hello ${hello.rps.toFixed(0)}/s (p99 ${hello.p99} ms)`);
  const note = mgmt.errors ? ` (${mgmt.errors} non-2xx/errors)` : "";
  return [
    row(`management: GET /api/v1/keys/ vs Elysia hello-world, ${mgmt.tool} 64 conns: throughput${note}`, mgmt.rps, "req/s", hello.rps, { on: "ratio", op: ">=", limit: 0.3 }),
    row(`management: GET /api/v1/keys/ p99 vs hello-world`, mgmt.p99, "ms", hello.p99),
    row(`management: ${mgmt.tool} (load generator) CPU share`, mgmt.cpuShare, "cores"),
  ];
}
