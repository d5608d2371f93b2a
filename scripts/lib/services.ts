import type { NatsIdentity } from "@riskinmind/contracts";

/** The product's processes, as `bun run dev` and `bun run start` launch them. */
export interface ServiceDef {
  name: "keys" | "usage" | "example";
  entry: string;
  defaultPort: number;
}

export const KEYS: ServiceDef = { name: "keys", entry: "services/keys/src/main.ts", defaultPort: 3000 };
export const USAGE: ServiceDef = { name: "usage", entry: "services/usage/src/main.ts", defaultPort: 3001 };
/** Not part of the product: a protected API that shows how a RiskInMind service mounts the guard. */
export const EXAMPLE: ServiceDef = { name: "example", entry: "examples/loans-api/src/main.ts", defaultPort: 3002 };

/** The NATS identity (user of nats/nats-server.conf) each process connects as; the example is a guarded service. */
export const NATS_IDENTITY: Record<ServiceDef["name"], NatsIdentity> = { keys: "keys", usage: "usage", example: "guard" };

/** The repository root (scripts/lib/../..), so the scripts work from any cwd. */
export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
