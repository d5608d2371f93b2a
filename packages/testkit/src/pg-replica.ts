/**
 * A Postgres primary and a streaming replica of its own, for tests and the
 * benchmark that need a real replica (issue 15). The machine's server has no
 * replication entry in pg_hba.conf and is not ours to change, so this makes a
 * throwaway cluster: initdb into a temp dir (wal_level=replica, a trust line
 * for replication on loopback), then `pg_basebackup -R -X stream` from it into
 * a second dir started as a hot standby on another port. Both run as the OS
 * user `postgres` when we are root (the server refuses root), TCP on
 * 127.0.0.1 only, no Unix socket. Everything is removed by stop(), and killed
 * at process exit whatever happens.
 */
import { rmSync } from "node:fs";
import { chown, mkdtemp } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { freePort } from "./ports";

/** Where Debian/Ubuntu put the server binaries; PG_BIN overrides. */
const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PgNode {
  port: number;
  dir: string;
  /** Admin URL of database `db` (default `postgres`) on this node. */
  url(db?: string): string;
  /** Fast shutdown (SIGINT), resolved once the postmaster has exited. */
  stop(): Promise<void>;
  /** Starts the server again on the same directory and port (a replica resumes streaming). */
  start(): Promise<void>;
  running(): boolean;
}

export interface PgPair {
  primary: PgNode;
  replica: PgNode;
  primaryUrl: string;
  replicaUrl: string;
  /**
   * One sample of the lag a reader sees: a marker row committed on the
   * primary, then the replica polled until it shows it; milliseconds from the
   * primary's commit acknowledgement to the first read that sees the row.
   */
  lagMs(): Promise<number>;
  /** Resolves once the replica has replayed everything the primary had written when called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Stops both servers and removes their directories. */
  stop(): Promise<void>;
}

const live = new Set<Subprocess>();
const dirs = new Set<string>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The uid/gid to run the server as: `postgres` when we are root, ourselves otherwise. */
function runAs(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => Number(Bun.spawnSync(["id", flag, "postgres"]).stdout.toString().trim());
  return { uid: id("-u"), gid: id("-g") };
}

async function run(cmd: string[], as: { uid?: number; gid?: number }): Promise<void> {
  const p = Bun.spawn(cmd, { ...as, stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", LANG: "C.UTF-8" } });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${cmd[0]} exited ${code}: ${(err || out).trim().slice(-2000)}`);
}

/** Polls until the server on `port` accepts a query (the replica answers read-only queries once consistent). */
async function accepting(port: number, proc: Subprocess, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`postgres on ${port} exited ${proc.exitCode}: ${log().slice(-2000)}`);
    const sql = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, connect_timeout: 1, onnotice: () => {} });
    try {
      await sql`select 1`;
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`postgres on ${port} did not accept connections within ${timeoutMs} ms: ${log().slice(-2000)}`);
      await Bun.sleep(50);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
}

function node(dir: string, port: number, as: { uid?: number; gid?: number }): PgNode {
  let proc: Subprocess | undefined;
  let out = "";
  const settings = ["listen_addresses=127.0.0.1", "unix_socket_directories=", "max_connections=100", "fsync=off", "full_page_writes=off"];
  const self: PgNode = {
    port,
    dir,
    url: (db = "postgres") => `postgres://postgres@127.0.0.1:${port}/${db}`,
    running: () => proc !== undefined && proc.exitCode === null,
    async start() {
      if (self.running()) return;
      out = "";
      const p = Bun.spawn([join(PG_BIN, "postgres"), "-D", dir, "-p", String(port), ...settings.flatMap((s) => ["-c", s])], {
        ...as,
        stdout: "pipe",
        stderr: "pipe",
        env: { PATH: process.env.PATH ?? "", LANG: "C.UTF-8" },
      });
      proc = p;
      live.add(p);
      void p.exited.then(() => live.delete(p));
      // Keep the server's log for the error message of a failed start.
      for (const s of [p.stdout, p.stderr]) {
        void (async () => {
          for await (const chunk of s as ReadableStream<Uint8Array>) out = (out + new TextDecoder().decode(chunk)).slice(-8000);
        })().catch(() => {});
      }
      await accepting(port, p, () => out);
    },
    async stop() {
      const p = proc;
      if (!p || p.exitCode !== null) return;
      p.kill("SIGINT");
      await p.exited;
    },
  };
  return self;
}

/**
 * A primary with one streaming replica (hot standby), both on free loopback
 * ports. The primary's `postgres` database is the one to use; anything
 * created on it appears on the replica after replay.
 */
export async function startPrimaryWithReplica(): Promise<PgPair> {
  const as = runAs();
  const root = await mkdtemp(join(tmpdir(), "rim-pg-replica-"));
  dirs.add(root);
  if (as.uid !== undefined) await chown(root, as.uid, as.gid!);
  const primaryDir = join(root, "primary");
  const replicaDir = join(root, "replica");
  const primary = node(primaryDir, freePort(), as);
  let replica: PgNode | undefined;
  try {
    await run([join(PG_BIN, "initdb"), "-D", primaryDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--no-instructions"], as);
    // wal_level=replica and wal senders are the defaults since 10; stated so the test does not depend on it.
    const conf = ["wal_level = replica", "max_wal_senders = 4", "hot_standby = on", "track_commit_timestamp = on"].join("\n");
    await appendAs(join(primaryDir, "postgresql.conf"), `\n${conf}\n`);
    await appendAs(join(primaryDir, "pg_hba.conf"), "\nhost replication all 127.0.0.1/32 trust\n");
    await primary.start();
    await run([join(PG_BIN, "pg_basebackup"), "-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", replicaDir, "-R", "-X", "stream", "-c", "fast"], as);
    replica = node(replicaDir, freePort(), as);
    await replica.start();
  } catch (e) {
    await replica?.stop().catch(() => {});
    await primary.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
    dirs.delete(root);
    throw e;
  }
  const r = replica;
  const onPrimary = postgres(primary.url(), { max: 1, onnotice: () => {} });
  const onReplica = postgres(r.url(), { max: 1, onnotice: () => {} });
  let probeReady = false;
  let probeId = 0;

  const pair: PgPair = {
    primary,
    replica: r,
    primaryUrl: primary.url(),
    replicaUrl: r.url(),
    async lagMs() {
      if (!probeReady) {
        await onPrimary`create table if not exists public.replica_probe (id int8 primary key)`;
        await pair.caughtUp();
        probeReady = true;
      }
      const id = ++probeId;
      await onPrimary`insert into public.replica_probe (id) values (${id})`;
      const committed = performance.now();
      for (;;) {
        const [row] = await onReplica`select 1 as one from public.replica_probe where id = ${id}`;
        if (row) return performance.now() - committed;
      }
    },
    async caughtUp(timeoutMs = 15_000) {
      const [{ lsn }] = (await onPrimary`select pg_current_wal_lsn()::text as lsn`) as unknown as [{ lsn: string }];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [{ done }] = (await onReplica`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as done`) as unknown as [{ done: boolean }];
        if (done) return;
        if (Date.now() > deadline) throw new Error(`the replica did not replay up to ${lsn} within ${timeoutMs} ms`);
        await Bun.sleep(10);
      }
    },
    async stop() {
      await onPrimary.end({ timeout: 1 }).catch(() => {});
      await onReplica.end({ timeout: 1 }).catch(() => {});
      await r.stop();
      await primary.stop();
      rmSync(root, { recursive: true, force: true });
      dirs.delete(root);
    },
  };
  return pair;
}

/** Appends to a file of the cluster keeping its owner (we may be root, the file is the postgres user's). */
async function appendAs(path: string, text: string): Promise<void> {
  const f = Bun.file(path);
  await Bun.write(path, (await f.text()) + text);
}
