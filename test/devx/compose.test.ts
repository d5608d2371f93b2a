/**
 * docker-compose.yml validates with Debian's docker-compose (no engine needed),
 * insists on JWT_SECRET and the NATS passwords, and runs NATS from the
 * repository's nats/nats-server.conf with each service as its own user.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");

async function compose(args: string[], env: Record<string, string>) {
  const bin = Bun.which("docker-compose");
  if (!bin) throw new Error("docker-compose is not installed (.ci/run installs it: apt-get install -y docker-compose)");
  const p = Bun.spawn([bin, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

const PASSWORDS = { NATS_KEYS_PASSWORD: "pk0123456789abcdef", NATS_USAGE_PASSWORD: "pu0123456789abcdef", NATS_GUARD_PASSWORD: "pg0123456789abcdef", NATS_ADMIN_PASSWORD: "pa0123456789abcdef" };
const FULL = { JWT_SECRET: "compose-test-secret-0123456789abcdef", ...PASSWORDS };

describe("docker-compose.yml", () => {
  test("passes docker-compose config -q with JWT_SECRET and the NATS passwords set", async () => {
    const r = await compose(["config", "-q"], FULL);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("refuses to render without JWT_SECRET, naming it", async () => {
    const r = await compose(["config", "-q"], PASSWORDS);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("set JWT_SECRET");
  });

  test("refuses to render without any one of the NATS passwords, naming it", async () => {
    for (const name of Object.keys(PASSWORDS)) {
      const r = await compose(["config", "-q"], { ...FULL, [name]: "" });
      expect(r.code, name).not.toBe(0);
      expect(r.stderr, name).toContain(`set ${name}`);
    }
  });

  test("NATS runs the repository's nats-server.conf and each service connects as its own user", async () => {
    const r = await compose(["config"], FULL);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("nats/nats-server.conf:/etc/nats/nats-server.conf:ro");
    expect(r.stdout).toMatch(/- -c\n\s+- \/etc\/nats\/nats-server.conf/);
    expect(r.stdout).toContain(`NATS_URL: nats://keys:${PASSWORDS.NATS_KEYS_PASSWORD}@nats:4222`);
    expect(r.stdout).toContain(`NATS_URL: nats://usage:${PASSWORDS.NATS_USAGE_PASSWORD}@nats:4222`);
    expect(r.stdout).toContain(`NATS_URL: nats://guard:${PASSWORDS.NATS_GUARD_PASSWORD}@nats:4222`);
    expect(r.stdout).not.toContain("nats://nats:4222");
  });

  test("runs postgres, nats with JetStream, keys, usage and the example, each with a healthcheck", async () => {
    const r = await compose(["config"], FULL);
    expect(r.code).toBe(0);
    for (const svc of ["postgres", "nats", "keys", "usage", "example"]) {
      const block = r.stdout.split(/\n {2}(?=\S)/).find((b) => b.startsWith(`${svc}:`));
      expect(block, svc).toBeDefined();
      expect(block!, svc).toContain("healthcheck:");
    }
    expect(await Bun.file(join(ROOT, "nats/nats-server.conf")).text()).toMatch(/^jetstream \{\}/m);
    expect(r.stdout).toContain("condition: service_healthy");
    expect(r.stdout).toMatch(/pgdata:|natsdata:/);
  });
});

describe("docker-compose.yml, profile cluster", () => {
  const ROUTE = { NATS_ROUTE_PASSWORD: "pr0123456789abcdef" };
  /** One service's block of `docker-compose config` output. */
  const block = (out: string, svc: string) => out.split(/\n {2}(?=\S)/).find((b) => b.startsWith(`${svc}:`));

  test("passes docker-compose --profile cluster config -q", async () => {
    const r = await compose(["--profile", "cluster", "config", "-q"], { ...FULL, ...ROUTE });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("three NATS nodes run nats/cluster.conf (which includes nats-server.conf), each named, with its own store", async () => {
    const r = await compose(["--profile", "cluster", "config"], { ...FULL, ...ROUTE });
    expect(r.code).toBe(0);
    expect(await Bun.file(join(ROOT, "nats/cluster.conf")).text()).toMatch(/^include \.\/nats-server\.conf$/m);
    for (const n of [1, 2, 3]) {
      const b = block(r.stdout, `nats-${n}`);
      expect(b, `nats-${n}`).toBeDefined();
      expect(b!).toMatch(/- -c\n\s+- \/etc\/nats\/cluster.conf\n\s+- -n\n\s+- nats-\d/);
      expect(b!).toContain(`- nats-${n}\n`);
      expect(b!).toContain("nats/nats-server.conf:/etc/nats/nats-server.conf:ro");
      expect(b!).toContain(`nats${n}data:/data`);
      expect(b!).toContain("healthcheck:");
      // Every node dials every node, authenticated as the route user; the route password is in the environment only.
      for (const m of [1, 2, 3]) expect(b!).toContain(`nats://route:${ROUTE.NATS_ROUTE_PASSWORD}@nats-${m}:6222`);
      expect(b!.split("environment:")[0]).not.toContain(ROUTE.NATS_ROUTE_PASSWORD);
      // The route port is never published.
      expect(b!).not.toContain("6222:");
    }
  });

  test("two replicas each of keys, usage and the example, every one given all three nodes; streams at 3 replicas", async () => {
    const r = await compose(["--profile", "cluster", "config"], { ...FULL, ...ROUTE });
    const user = { keys: "keys", usage: "usage", example: "guard" } as const;
    for (const [svc, who] of Object.entries(user)) {
      for (const i of [1, 2]) {
        const b = block(r.stdout, `${svc}-${i}`);
        expect(b, `${svc}-${i}`).toBeDefined();
        const pw = { keys: PASSWORDS.NATS_KEYS_PASSWORD, usage: PASSWORDS.NATS_USAGE_PASSWORD, guard: PASSWORDS.NATS_GUARD_PASSWORD }[who];
        expect(b!).toContain(`NATS_URL: nats://${who}:${pw}@nats-1:4222,nats://nats-2:4222,nats://nats-3:4222`);
        if (svc !== "example") expect(b!).toContain("NATS_STREAM_REPLICAS: '3'");
        expect(b!).toContain("healthcheck:");
      }
    }
  });

  test("the default stack does not need the route password; a cluster node refuses to start without a well-formed one", async () => {
    expect((await compose(["config", "-q"], FULL)).code).toBe(0);
    const r = await compose(["--profile", "cluster", "config"], FULL);
    const entry = block(r.stdout, "nats-1")!;
    expect(entry).toContain("set NATS_ROUTE_PASSWORD");
    // The node's own guard, run here with sh as the container would (compose's $$ is a literal $).
    const script = /- -c\n\s+- (case[\s\S]*?"\$\$@")\n/.exec(entry)![1]!.replace(/\n\s+/g, " ").replaceAll("$$", "$").replace('exec nats-server "$@"', 'echo started "$@"');
    for (const [pw, ok] of [
      ["", false],
      ["1abcdefghijklmnopq", false],
      ["pshort", false],
      ["pabc-defghijklmnop", false],
      [ROUTE.NATS_ROUTE_PASSWORD, true],
    ] as const) {
      const p = Bun.spawnSync(["sh", "-c", script, "nats-server", "-n", "nats-1"], { env: { PATH: process.env.PATH ?? "", NATS_ROUTE_PASSWORD: pw }, stderr: "pipe", stdout: "pipe" });
      expect(p.exitCode === 0, pw).toBe(ok);
      if (ok) expect(p.stdout.toString()).toBe("started -n nats-1\n");
      else expect(p.stderr.toString()).toContain("set NATS_ROUTE_PASSWORD");
    }
  });
});
