/**
 * `bun run dev` as root from a checkout inside a private (0700) directory, as
 * after a clone into /root or `mktemp -d`: the postgres OS user, which runs
 * the server under root, cannot enter it. The first command must still work:
 * the cluster goes to a reachable per-checkout directory (named on one line),
 * the walkthrough works, a restart keeps the key, and the user's directory
 * keeps its mode.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { RELOCATED_ROOT } from "../../scripts/lib/dev-pg-dir";
import { type Child, descendants, freePort, processesMentioning, type ProcRef, runLine, spawnChild, stillAlive, stopDevStacks, waitFor, walkthrough } from "@riskinmind/testkit";

const ROOT = join(import.meta.dir, "../..");
const isRoot = userInfo().uid === 0;
const privateDir = mkdtempSync(join(tmpdir(), "rim-private-"));
const checkout = join(privateDir, "checkout");
const ports = { KEYS_PORT: freePort(), USAGE_PORT: freePort(), EXAMPLE_PORT: freePort(), PG_PORT: freePort(), NATS_PORT: freePort() };
const LOCATION = new RegExp(`Postgres data lives in (${RELOCATED_ROOT}/[0-9a-f]{12}/postgres)\\b`);
let relocated = "";

const running: Child[] = [];
beforeAll(async () => {
  if (!isRoot) return;
  // The working tree as a newcomer has it after clone + install; node_modules hard-linked when the filesystem allows (fast).
  const tar = Bun.spawn(
    [
      "bash",
      "-c",
      `set -o pipefail; mkdir -p "$2" && tar -C "$1" --exclude=./node_modules --exclude=./.data --exclude=./.git --exclude=./test/artifacts -cf - . | tar -C "$2" -xf - && (cp -al "$1/node_modules" "$2/node_modules" 2>/dev/null || cp -a "$1/node_modules" "$2/node_modules")`,
      "copy",
      ROOT,
      checkout,
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await tar.exited) !== 0) throw new Error(`copying the checkout failed: ${await new Response(tar.stderr).text()}`);
});
afterAll(async () => {
  await stopDevStacks(running);
  for (const p of [...processesMentioning(privateDir), ...(relocated ? processesMentioning(relocated) : [])]) process.kill(p.pid, "SIGKILL");
  rmSync(privateDir, { recursive: true, force: true });
  // Only the directory this run's checkout was given (a 12-hex name under RELOCATED_ROOT).
  if (LOCATION.test(`Postgres data lives in ${relocated}`)) rmSync(join(relocated, ".."), { recursive: true, force: true });
});

/** `bun run dev` in the checkout, with the environment a newcomer has (no DATA_DIR: the default ./.data). */
async function startDev(): Promise<Child> {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", LOG_LEVEL: "warn", ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  const dev = spawnChild(["bun", "run", "dev"], env, checkout);
  running.push(dev);
  const ready = () => dev.output().includes("Ctrl-C stops everything.");
  await waitFor(() => ready() || dev.proc.exitCode !== null, 90_000, `dev ready banner\n${dev.output()}`);
  if (!ready()) throw new Error(`bun run dev exited with ${dev.proc.exitCode}:\n${dev.output()}`);
  return dev;
}

async function stopDev(dev: Child): Promise<{ code: number | null; survivors: ProcRef[] }> {
  const tree = [...descendants(dev.proc.pid), ...processesMentioning(relocated)];
  const code = await dev.kill("SIGTERM");
  return { code, survivors: [...stillAlive(tree), ...processesMentioning(relocated), ...processesMentioning(privateDir)] };
}

describe("bun run dev as root in a private directory", () => {
  let keyId = "";

  test.if(isRoot)(
    "puts the Postgres data where the postgres user can reach it, says where, and the walkthrough works",
    async () => {
      expect(statSync(privateDir).mode & 0o777).toBe(0o700);
      const dev = await startDev();
      const out = dev.output();
      const where = out.match(LOCATION);
      expect(where).not.toBeNull();
      relocated = where![1]!;
      expect(out).toContain(`cannot enter ${privateDir}`);

      const w = walkthrough(out);
      const generated = JSON.parse(await runLine(w.generate!, { TOKEN: w.token! }));
      expect(generated.success).toBe(true);
      keyId = generated.data.keyId;

      // The cluster runs from the relocated directory, owned by the postgres user; NATS data stays in the checkout.
      expect(processesMentioning(relocated).some((p) => p.cmd.includes(" -D "))).toBe(true);
      expect(statSync(relocated).uid).not.toBe(0);
      expect(existsSync(join(relocated, "PG_VERSION"))).toBe(true);
      expect(existsSync(join(checkout, ".data", "postgres"))).toBe(false);
      expect(existsSync(join(checkout, ".data", "nats"))).toBe(true);

      const { code, survivors } = await stopDev(dev);
      expect(survivors).toEqual([]);
      expect(code).toBe(0);
      // No chmod of the user's directory.
      expect(statSync(privateDir).mode & 0o777).toBe(0o700);
    },
    180_000,
  );

  test.if(isRoot)(
    "a restart finds the same data and the key",
    async () => {
      expect(keyId).toStartWith("key_");
      const dev = await startDev();
      expect(dev.output().match(LOCATION)?.[1]).toBe(relocated);
      expect(dev.output()).toContain("started on existing data");
      const w = walkthrough(dev.output());
      const active = (await (await fetch(`http://127.0.0.1:${ports.KEYS_PORT}/api/v1/keys/`, { headers: { authorization: `Bearer ${w.token}` } })).json()) as { data: { keyId: string } };
      expect(active.data.keyId).toBe(keyId);

      const { code, survivors } = await stopDev(dev);
      expect(survivors).toEqual([]);
      expect(code).toBe(0);
    },
    180_000,
  );
});
