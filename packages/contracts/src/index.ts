export * from "./errors";
export * from "./http";
export * from "./nats";
export * from "./usage";
export * from "./subjects";
export * from "./key-format";
export * from "./validate";
export * from "./text";
