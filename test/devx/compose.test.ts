/** docker-compose.yml validates with Debian's docker-compose (no engine needed) and insists on JWT_SECRET. */
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

describe("docker-compose.yml", () => {
  test("passes docker-compose config -q with JWT_SECRET set", async () => {
    const r = await compose(["config", "-q"], { JWT_SECRET: "compose-test-secret-0123456789abcdef" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("refuses to render without JWT_SECRET, naming it", async () => {
    const r = await compose(["config", "-q"], {});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("set JWT_SECRET");
  });

  test("runs postgres, nats with JetStream, keys, usage and the example, each with a healthcheck", async () => {
    const r = await compose(["config"], { JWT_SECRET: "compose-test-secret-0123456789abcdef" });
    expect(r.code).toBe(0);
    for (const svc of ["postgres", "nats", "keys", "usage", "example"]) {
      const block = r.stdout.split(/\n  (?=\S)/).find((b) => b.startsWith(`${svc}:`));
      expect(block, svc).toBeDefined();
      expect(block!, svc).toContain("healthcheck:");
    }
    expect(r.stdout).toContain("- -js");
    expect(r.stdout).toContain("condition: service_healthy");
    expect(r.stdout).toMatch(/pgdata:|natsdata:/);
  });
});
