/**
 * The guard installs on its own: packed with `bun pm pack`, installed into a
 * scratch app outside the workspace that depends on nothing else of ours, it
 * protects a route. `@riskinmind/contracts` is packed too and the app maps the
 * guard's dependency on it to that tarball ("overrides"), as a consumer maps
 * it to the private registry: the name must never resolve on public npm.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, freePort, issueKey, natsOptions, newOwner, req, spawnChild, trioStack, type TrioStack, waitFor } from "@riskinmind/testkit";

const ROOT = join(import.meta.dir, "../..");
const ROOT_PKG = (await Bun.file(join(ROOT, "package.json")).json()) as { dependencies: Record<string, string> };
const version = async (pkg: string) => ((await Bun.file(join(ROOT, "packages", pkg, "package.json")).json()) as { version: string }).version;
// What `bun pm pack` names a scoped package's tarball.
const TARBALL = { contracts: `riskinmind-contracts-${await version("contracts")}.tgz`, guard: `riskinmind-guard-${await version("guard")}.tgz` };

// The whole consumer: only public npm packages and the guard's own API.
const APP = `
import { Elysia } from "elysia";
import { connect } from "nats";
import { createGuard } from "@riskinmind/guard";

const nc = await connect(JSON.parse(process.env.SCRATCH_NATS));
const guard = createGuard({ nc, topology: JSON.parse(process.env.SCRATCH_TOPOLOGY) });
new Elysia()
  .get("/health", () => ({ guard: import.meta.resolve("@riskinmind/guard") }))
  .use(guard.plugin)
  .get("/hello", ({ apiKey }) => ({ keyId: apiKey.keyId }))
  .listen({ port: Number(process.env.PORT), hostname: "127.0.0.1" });
`;

let dir: string;
let stack: TrioStack;
let child: Child | undefined;

async function run(cmd: string[], cwd: string): Promise<void> {
  const p = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} in ${cwd} exited ${code}\n${out}\n${err}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rim-guard-pack-"));
  const [started] = await Promise.all([
    trioStack({ usageStream: true }),
    run(["bun", "pm", "pack", "--destination", dir], join(ROOT, "packages/contracts")),
    run(["bun", "pm", "pack", "--destination", dir], join(ROOT, "packages/guard")),
  ]);
  stack = started;
}, 30_000);

afterAll(async () => {
  if (child) await child.kill("SIGKILL");
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("the packed guard, installed alone in a scratch app, answers 401 without a key and 200 with a real one", async () => {
  const contracts = `file:../${TARBALL.contracts}`;
  const app = join(dir, "app");
  await Bun.write(
    join(app, "package.json"),
    JSON.stringify({
      name: "scratch-guarded-app",
      private: true,
      type: "module",
      dependencies: {
        "@riskinmind/guard": `file:../${TARBALL.guard}`,
        "@riskinmind/contracts": contracts,
        elysia: ROOT_PKG.dependencies.elysia,
        nats: ROOT_PKG.dependencies.nats,
      },
      overrides: { "@riskinmind/contracts": contracts },
    }),
  );
  await Bun.write(join(app, "app.ts"), APP);
  await run(["bun", "install"], app);

  const port = freePort();
  child = spawnChild(
    ["bun", "app.ts"],
    {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      PORT: String(port),
      // As every service that mounts the guard: the NATS identity "guard" and its inbox.
      SCRATCH_NATS: JSON.stringify(natsOptions("guard", { name: "scratch-guarded-app" })),
      SCRATCH_TOPOLOGY: JSON.stringify(stack.topo),
    },
    app,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/health`).catch(() => null))?.status === 200, 10_000, `scratch app /health\n${child.output()}`);

  // The guard the app runs is the installed tarball, not the workspace's source.
  const where = (await req(`${base}/health`)).body.guard as string;
  expect(where.startsWith(`file://${join(app, "node_modules/@riskinmind/guard")}`)).toBe(true);

  const anonymous = await req(`${base}/hello`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.body).toMatchObject({ success: false, error: { code: "INVALID_API_KEY" } });

  const key = await issueKey(stack.keys, await newOwner());
  const ok = await req(`${base}/hello`, { headers: { "x-api-key": key.apiKey } });
  expect(ok.status).toBe(200);
  expect(ok.body).toEqual({ keyId: key.keyId });
}, 30_000);
