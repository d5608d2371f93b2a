/**
 * @riskinmind/testkit: everything the tests and the benchmark share, one
 * import. Real Postgres and NATS (test/preload.ts starts them), databases and
 * NATS names of each test's own, one HTTP client, one builder per stack.
 */
export * from "./auth";
export * from "./bus";
export * from "./client";
export * from "./db";
export * from "./fixtures";
export * from "./logs";
export * from "./metrics";
export * from "./nats";
export * from "./nats-cluster";
export * from "./per-file";
export * from "./pg-replica";
export * from "./pgrelay";
export * from "./ports";
export * from "./proc-table";
export * from "./procs";
export * from "./raw-http";
export * from "./stacks/keys";
export * from "./stacks/loans";
export * from "./stacks/processes";
export * from "./stacks/services";
export * from "./stacks/trio";
export * from "./stacks/usage";
export * from "./wait";
export * from "./walkthrough";
