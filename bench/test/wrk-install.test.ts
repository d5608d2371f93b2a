/** How the bench picks its HTTP load generator: wrk, installed when missing, autocannon only as a stated fallback. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureHttpLoadTool, type WrkInstallDeps } from "../lib/wrk-install";

const dir = await mkdtemp(join(tmpdir(), "rim-wrk-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

// The commands are recorded, not run: the decision is what is under test, not Debian's apt.
function deps(over: Partial<WrkInstallDeps> & { installs?: boolean; failAt?: string } = {}): WrkInstallDeps & { calls: string[] } {
  const calls: string[] = [];
  const wrkPath = over.wrkPath ?? join(dir, `wrk-${Math.random().toString(36).slice(2)}`);
  return {
    calls,
    wrkPath,
    isRoot: over.isRoot ?? true,
    forced: over.forced,
    async run(cmd) {
      const line = cmd.join(" ");
      calls.push(line);
      if (over.failAt && line.startsWith(over.failAt)) return { code: 100, tail: "E: Unable to locate package wrk" };
      if (line === "apt-get install -y wrk" && over.installs !== false) await Bun.write(wrkPath, "#!/bin/sh\n");
      return { code: 0, tail: "" };
    },
  };
}

describe("ensureHttpLoadTool", () => {
  test("wrk already there: wrk, nothing installed", async () => {
    const d = deps({ wrkPath: join(dir, "present") });
    await Bun.write(d.wrkPath, "");
    expect(await ensureHttpLoadTool(d)).toEqual({ tool: "wrk" });
    expect(d.calls).toEqual([]);
  });

  test("wrk missing, root: apt-get update once, then install, then wrk, and the header says it was installed", async () => {
    const d = deps();
    const r = await ensureHttpLoadTool(d);
    expect(r.tool).toBe("wrk");
    expect(r.note).toContain("installed with apt-get");
    expect(d.calls).toEqual(["apt-get update", "apt-get install -y wrk"]);
  });

  test("the install fails: autocannon, and the note says which command failed and why", async () => {
    const d = deps({ failAt: "apt-get install" });
    const r = await ensureHttpLoadTool(d);
    expect(r.tool).toBe("autocannon");
    expect(r.note).toContain("`apt-get install -y wrk` failed (exit 100: E: Unable to locate package wrk)");
  });

  test("apt-get update fails: no install is attempted", async () => {
    const d = deps({ failAt: "apt-get update" });
    expect((await ensureHttpLoadTool(d)).tool).toBe("autocannon");
    expect(d.calls).toEqual(["apt-get update"]);
  });

  test("apt-get says yes but no wrk appears: autocannon, said so", async () => {
    const d = deps({ installs: false });
    const r = await ensureHttpLoadTool(d);
    expect(r).toMatchObject({ tool: "autocannon" });
    expect(r.note).toContain("is absent");
  });

  test("not root: autocannon without trying apt-get; BENCH_HTTP_LOAD=autocannon forces it", async () => {
    const user = deps({ isRoot: false });
    expect((await ensureHttpLoadTool(user)).note).toContain("only root");
    expect(user.calls).toEqual([]);
    const forced = deps({ forced: "autocannon" });
    expect(await ensureHttpLoadTool(forced)).toEqual({ tool: "autocannon", note: "BENCH_HTTP_LOAD=autocannon" });
    expect(forced.calls).toEqual([]);
  });
});
