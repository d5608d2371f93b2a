/** What every bench case gets: the run's sizes, database, topology and connections. */
import type { NatsConnection } from "nats";
import type { Sql } from "postgres";
import { subjects, type Subjects, type Topology } from "@riskinmind/contracts";
import type { BenchDb } from "./db";
import type { Proc } from "./procs";
import type { UsageShape } from "./data";
import type { Child } from "@riskinmind/testkit";

export interface Sizes {
  /** Keys in the database for the main rows, and for the small growth point. */
  keys: number;
  keysSmall: number;
  /** Usage rows in the table for the main rows, and for the small growth point. */
  rows: number;
  rowsSmall: number;
  /** Plaintext keys the verify load draws from (keys 0..hot-1). */
  hot: number;
  /** Keys verified once each for the cold row. */
  cold: number;
  /** Events for the ingest rows. */
  ingest: number;
  /** Seconds of HTTP load and ms of NATS load per measurement, split over alternating rounds (whole seconds for wrk). */
  httpS: number;
  natsMs: number;
  /** Sequential requests per latency median. */
  samples: number;
}

export const FULL: Sizes = { keys: 1_000_000, keysSmall: 10_000, rows: 10_000_000, rowsSmall: 100_000, hot: 10_000, cold: 20_000, ingest: 200_000, httpS: 6, natsMs: 3000, samples: 300 };
export const QUICK: Sizes = { keys: 100_000, keysSmall: 10_000, rows: 1_000_000, rowsSmall: 100_000, hot: 10_000, cold: 5_000, ingest: 50_000, httpS: 3, natsMs: 1500, samples: 100 };

export interface Ctx {
  sizes: Sizes;
  db: BenchDb;
  sql: Sql;
  nc: NatsConnection;
  topo: Topology;
  subj: Subjects;
  /** Environment for service child processes. */
  env: Record<string, string>;
  /** Per-run tag of the bench keys (see keys.ts). */
  tag: string;
  usageShape: UsageShape;
  keys: Proc;
  usage: Proc;
  hello: Proc;
  echo: Child;
  echoSubject: string;
  /** Progress line on stderr (stdout is the table). */
  log(msg: string): void;
}

export function topologyFor(tag: string): Topology {
  const s = tag.toLowerCase().slice(0, 8);
  return { prefix: `bench${s}.`, stream: `USAGE_bench${s}`, keyStream: `KEY_EVENTS_bench${s}` };
}

export { subjects };
