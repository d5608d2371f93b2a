import { TypeCompiler } from "@sinclair/typebox/compiler";
import { FormatRegistry } from "@sinclair/typebox";
import { KeyChangedEvent, KeyLookupReply, KeyLookupRequest, KeyRevokedEvent, LogsQueryReply, OwnerKeyChangedEvent, LogsQueryRequest, VerifyReply, VerifyRequest } from "./nats";
import { LimitsTakeReply, LimitsTakeRequest } from "./limits";
import { LogsExportHead } from "./logs-export";
import "./text";
import { UsageEvent } from "./usage";
import { UsageAggregateReply, UsageAggregateRequest } from "./usage-aggregate";

// TypeBox ships no formats; the one we use is registered once here.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));

/** Compiled validators for every NATS message: built once, cheap per call. */
export const check = {
  verifyRequest: TypeCompiler.Compile(VerifyRequest),
  verifyReply: TypeCompiler.Compile(VerifyReply),
  keyRevoked: TypeCompiler.Compile(KeyRevokedEvent),
  keyChanged: TypeCompiler.Compile(KeyChangedEvent),
  ownerKeyChanged: TypeCompiler.Compile(OwnerKeyChangedEvent),
  logsQueryRequest: TypeCompiler.Compile(LogsQueryRequest),
  logsQueryReply: TypeCompiler.Compile(LogsQueryReply),
  logsExportHead: TypeCompiler.Compile(LogsExportHead),
  usageEvent: TypeCompiler.Compile(UsageEvent),
  keyLookupRequest: TypeCompiler.Compile(KeyLookupRequest),
  keyLookupReply: TypeCompiler.Compile(KeyLookupReply),
  limitsTakeRequest: TypeCompiler.Compile(LimitsTakeRequest),
  limitsTakeReply: TypeCompiler.Compile(LimitsTakeReply),
  usageAggregateRequest: TypeCompiler.Compile(UsageAggregateRequest),
  usageAggregateReply: TypeCompiler.Compile(UsageAggregateReply),
};

/** JSON.parse that returns undefined instead of throwing. */
export function parseJson(data: Uint8Array | string): unknown {
  try {
    return JSON.parse(typeof data === "string" ? data : decoder.decode(data));
  } catch {
    return undefined;
  }
}
const decoder = new TextDecoder();
