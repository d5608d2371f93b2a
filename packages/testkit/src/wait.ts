/** Waiting for an event the test cannot subscribe to: polls a probe, never a fixed sleep. */

/** Polls `probe` until it returns true (or throws after `timeoutMs`, so a hang fails with a message). */
export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}
