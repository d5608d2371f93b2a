/** The embedded servers behind `bun run dev` and the test bootstrap. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startEmbeddedPostgres, type RunningPostgres } from "../../scripts/lib/postgres";
import { findNatsServer, NATS_INSTALL_HELP, PASSWORD_PATTERN, randomPasswords, startNatsServer } from "../../scripts/lib/nats";
import { freePort } from "../../scripts/lib/ports";
import { processesMentioning } from "@riskinmind/testkit";

const scratch = mkdtempSync(join(tmpdir(), "rim-embedded-"));
chmodSync(scratch, 0o755);
const started: RunningPostgres[] = [];
afterAll(async () => {
  for (const pg of started) await pg.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("embedded Postgres", () => {
  const dir = join(scratch, "pg");

  test("initialises once, keeps its data across a restart, and serves COPY and advisory locks", async () => {
    const first = await startEmbeddedPostgres({ dir, port: await freePort() });
    started.push(first);
    expect(first.initialised).toBe(true);
    let sql = postgres(first.url, { max: 2, onnotice: () => {} });
    await sql`create table kept (id int primary key, note text)`;
    const copy = await sql`copy kept (id, note) from stdin`.writable();
    copy.write("1\tone\n2\ttwo\n");
    copy.end();
    await new Promise((r) => copy.on("finish", r));
    const [lock] = await sql`select pg_try_advisory_lock(7) as locked`;
    expect(lock!.locked).toBe(true);
    await sql.end();
    await first.stop();
    expect(processesMentioning(dir)).toEqual([]);

    const second = await startEmbeddedPostgres({ dir, port: await freePort() });
    started.push(second);
    expect(second.initialised).toBe(false);
    expect(second.timings.initdbMs).toBe(0);
    sql = postgres(second.url, { max: 1, onnotice: () => {} });
    expect((await sql`select id, note from kept order by id`).map((r) => `${r.id}:${r.note}`)).toEqual(["1:one", "2:two"]);
    await sql.end();
    await second.stop();
  }, 60_000);

  test.if(userInfo().uid === 0)(
    "as root, runs the server as the postgres OS user that owns the data directory",
    async () => {
      const pg = await startEmbeddedPostgres({ dir, port: await freePort() });
      started.push(pg);
      const postmaster = processesMentioning(dir).find((p) => p.cmd.includes(" -D "));
      expect(postmaster).toBeDefined();
      const uidLine = readFileSync(`/proc/${postmaster!.pid}/status`, "utf8")
        .split("\n")
        .find((l) => l.startsWith("Uid:"))!;
      const runAs = Number(uidLine.split(/\s+/)[1]);
      expect(runAs).not.toBe(0);
      expect(statSync(dir).uid).toBe(runAs);
      await pg.stop();
    },
    60_000,
  );

  test("a cluster copied from a template (made on first use) starts like a fresh initdb", async () => {
    const template = join(scratch, "template");
    const a = await startEmbeddedPostgres({ dir: join(scratch, "from-template-a"), port: await freePort(), template, throwaway: true });
    started.push(a);
    expect(existsSync(join(template, "PG_VERSION"))).toBe(true);
    const b = await startEmbeddedPostgres({ dir: join(scratch, "from-template-b"), port: await freePort(), template, throwaway: true });
    started.push(b);
    for (const pg of [a, b]) {
      expect(pg.initialised).toBe(true);
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      await sql`create table t (id int)`;
      expect((await sql`select count(*)::int as n from t`)[0]!.n).toBe(0);
      await sql.end();
    }
    await Promise.all([a.stop(), b.stop()]);
  }, 60_000);

  test("a port already in use is reported, not hung on", async () => {
    const blocker = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      await expect(startEmbeddedPostgres({ dir, port: blocker.port })).rejects.toThrow(`did not start on port ${blocker.port}`);
    } finally {
      blocker.stop(true);
    }
  }, 60_000);
});

describe("nats-server child", () => {
  test("starts nats/nats-server.conf with JetStream on the given port, its passwords only in its environment, and leaves nothing behind when stopped", async () => {
    const store = join(scratch, "nats");
    const nats = await startNatsServer({ storeDir: store, port: await freePort() });
    const { connect } = await import("nats");
    const admin = new URL(nats.urlFor("admin"));
    expect(admin.username).toBe("admin");
    expect(decodeURIComponent(admin.password)).toBe(nats.passwords.admin);
    const nc = await connect({ servers: nats.url, user: "admin", pass: nats.passwords.admin });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: "DEVX_PROBE", subjects: ["devx.probe"] });
    expect((await jsm.streams.info("DEVX_PROBE")).config.name).toBe("DEVX_PROBE");
    await nc.close();
    // Fresh random passwords per server, never on its command line (ps shows that to every user).
    const cmd = processesMentioning(store)[0]!.cmd;
    expect(cmd).toContain("nats/nats-server.conf");
    for (const p of Object.values(nats.passwords)) expect(cmd).not.toContain(p);
    const other = await startNatsServer({ storeDir: join(scratch, "nats2"), port: await freePort() });
    expect(other.passwords.guard).not.toBe(nats.passwords.guard);
    await Promise.all([nats.stop(), other.stop()]);
    expect(processesMentioning(store)).toEqual([]);
  }, 30_000);

  test("passwords are ones nats-server reads back exactly (it parses them as config values): generated ones always, a bad given one is refused up front", async () => {
    // A leading digit could read as a number or a date; this once stopped a server at start.
    for (let i = 0; i < 500; i++) for (const p of Object.values(randomPasswords())) expect(p).toMatch(PASSWORD_PATTERN);
    const passwords = { ...randomPasswords(), guard: "3e10abcdefabcdefabcdef" };
    await expect(startNatsServer({ storeDir: join(scratch, "nats-bad"), port: await freePort(), passwords })).rejects.toThrow("NATS_GUARD_PASSWORD must be");
  });

  test("when no nats-server is installed, the one message gives the Debian, macOS and Docker install commands", async () => {
    expect(findNatsServer("", [])).toBeUndefined();
    expect(findNatsServer(process.env.PATH, ["/usr/sbin", "/usr/bin"])).toContain("nats-server");
    expect(NATS_INSTALL_HELP).toContain("sudo apt-get install nats-server");
    expect(NATS_INSTALL_HELP).toContain("brew install nats-server");
    expect(NATS_INSTALL_HELP).toContain("docker run -p 4222:4222 nats:2 -js");
  });
});
