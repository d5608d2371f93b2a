/**
 * Where `bun run dev` keeps the embedded Postgres cluster: DATA_DIR/postgres,
 * unless that is out of reach of the server. As root the server runs as the
 * OS user `postgres`, which must be able to enter every ancestor of its data
 * directory; a checkout under a private directory (a 0700 home, `mktemp -d`)
 * rules that out. We do not chmod the user's directories: the cluster then
 * lives under /var/tmp/riskinmind-dev/<hash of DATA_DIR's absolute path>/,
 * which the server can reach, which is one per checkout, and which survives
 * restarts and reboots (/var/tmp is not cleared at boot).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { blockedAncestor } from "./postgres";

export const RELOCATED_ROOT = "/var/tmp/riskinmind-dev";

export interface DevPostgresDir {
  dir: string;
  /** One line for the user when the data is not under DATA_DIR. */
  note?: string;
}

/** The cluster's directory for DATA_DIR `dataDir` (absolute); creates the relocated parent when one is needed. */
export async function devPostgresDir(dataDir: string, opts: { uid?: number; root?: string } = {}): Promise<DevPostgresDir> {
  const wanted = join(dataDir, "postgres");
  if ((opts.uid ?? userInfo().uid) !== 0) return { dir: wanted };
  const home = join(opts.root ?? RELOCATED_ROOT, createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12));
  const relocated = join(home, "postgres");
  const blocked = await blockedAncestor(wanted);
  // A cluster made by an earlier run stays in use even if the way has been opened since: the keys are in it.
  const earlier = blocked === undefined && !existsSync(join(wanted, "PG_VERSION")) && existsSync(join(relocated, "PG_VERSION"));
  if (blocked === undefined && !earlier) return { dir: wanted };

  await rootOwnedDir(opts.root ?? RELOCATED_ROOT);
  await rootOwnedDir(home);
  await writeFile(join(home, "DATA_DIR"), `${resolve(dataDir)}\n`, { mode: 0o644 });
  const why = blocked !== undefined ? `the postgres OS user (the server runs as it under root) cannot enter ${blocked}` : "an earlier run put it there";
  return { dir: relocated, note: `Postgres data lives in ${relocated}, not under ${dataDir}: ${why}; it is kept across runs (delete it to start afresh)` };
}

/**
 * Creates `path` (0755, enterable by the postgres user) or checks that what is
 * there is a root-owned directory nobody else can write to: /var/tmp is shared,
 * and a directory or symlink planted there by another user must not receive
 * the cluster.
 */
async function rootOwnedDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o755 });
  const st = await lstat(path);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new Error(`${path} is not a directory owned by root and closed to writes by others; remove it and start again`);
  }
  // mkdir's mode is filtered by the umask; the postgres user must be able to enter.
  await chmod(path, 0o755);
}
