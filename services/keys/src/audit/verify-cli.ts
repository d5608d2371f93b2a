/**
 * `bun run audit:verify [--owner <id>]`: checks the audit chains in
 * DATABASE_URL (every owner's, or one). One line per owner; a broken chain
 * names its first bad entry. Exit 0: every chain holds; 1: a chain is
 * broken; 2: usage or configuration error (nothing was checked).
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { ownersToVerify, verifyOwnerChain } from "./verify";

const USAGE = "usage: bun run audit:verify [--owner <ownerId>]   (DATABASE_URL from the environment)";

function usage(problem: string): never {
  console.error(`audit:verify: ${problem}\n${USAGE}`);
  process.exit(2);
}

let owner: string | undefined;
try {
  const { values, positionals } = parseArgs({ args: Bun.argv.slice(2), options: { owner: { type: "string" } }, strict: true, allowPositionals: true });
  if (positionals.length > 0) usage(`unexpected argument ${JSON.stringify(positionals[0])}`);
  owner = values.owner;
  if (owner === "") usage("--owner needs an owner id");
} catch (err) {
  usage((err as Error).message);
}
const url = process.env.DATABASE_URL;
if (!url || !/^postgres(ql)?:\/\//.test(url)) usage("DATABASE_URL must be a postgres:// URL");

const sql = postgres(url, { max: 2, onnotice: () => {} });
let broken = 0;
try {
  const owners = await ownersToVerify(sql, owner);
  for (const o of owners) {
    const v = await verifyOwnerChain(sql, o);
    if (v.broken) {
      broken++;
      console.log(`BROKEN owner=${o} entries_ok=${v.entries} first_bad: id=${v.broken.id} seq=${v.broken.seq}: ${v.broken.problem}`);
    } else {
      console.log(`ok owner=${o} entries=${v.entries}`);
    }
  }
  console.log(broken === 0 ? `${owners.length} chain(s) verified, all intact` : `${broken} of ${owners.length} chain(s) broken`);
} catch (err) {
  // The database's message only (never the URL, which may carry a password).
  console.error(`audit:verify: could not read the audit log: ${(err as Error).message}`);
  await sql.end({ timeout: 1 });
  process.exit(2);
}
await sql.end({ timeout: 1 });
process.exit(broken === 0 ? 0 : 1);
