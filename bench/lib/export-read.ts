/** What the export rows of the benchmark and of bench/export-check.ts share: reading an export as a client would, and watching memory meanwhile. */
import { readFileSync } from "node:fs";

/** Resident memory of a process in bytes (Linux), or null elsewhere. */
export function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Reads an export body to its end, counting its lines; `sample` runs every 16 chunks (memory peaks). */
export async function drainExport(res: Response, sample: () => void): Promise<number> {
  let lines = 0;
  let chunks = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const c = await reader.read();
    if (c.done) break;
    // indexOf is a native scan: a JS loop over every byte cost the client seconds per 2M rows, on the cores the services share.
    for (let i = c.value.indexOf(10); i !== -1; i = c.value.indexOf(10, i + 1)) lines++;
    if (++chunks % 16 === 0) sample();
  }
  return lines;
}
