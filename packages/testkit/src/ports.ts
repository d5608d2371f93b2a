/** Loopback ports for servers a test starts (synchronous, unlike scripts/lib/ports.ts, so it fits in expressions). */

/** A free TCP port on loopback. */
export function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}
