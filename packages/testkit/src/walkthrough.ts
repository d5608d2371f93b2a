/** The walkthrough `bun run dev` prints, read back and run the way a user pasting it would. */
import { expect } from "bun:test";

/** Runs one printed walkthrough line with bash, as a user pasting it would. */
export async function runLine(line: string, env: Record<string, string>): Promise<string> {
  const p = Bun.spawn(["bash", "-c", line], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(code).toBe(0);
  return out;
}

/** The token, the console link and the three curl lines of the walkthrough `bun run dev` printed. */
export function walkthrough(output: string) {
  const lines = output.split("\n");
  const token = lines.find((l) => l.startsWith("export TOKEN="))?.slice("export TOKEN=".length);
  const curl = (part: string) => lines.find((l) => l.startsWith("curl ") && l.includes(part));
  const consoleLink = lines.find((l) => l.startsWith("  console  "))?.split(/\s+/)[2];
  return { token, generate: curl("/api/v1/keys/generate"), predict: curl("/api/v1/loans/predict"), logs: curl("/api/v1/keys/logs"), console: consoleLink };
}
