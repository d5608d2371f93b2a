export * from "./config";
export * from "./logger";
export * from "./migrate";
export * from "./db";
export * from "./nats";
export * from "./metrics";
export * from "./http";
