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
