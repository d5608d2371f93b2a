/** GET /api/v1/keys/audit (issue 13): the owner's audit entries, newest first, a page at a time. */
import { Type, type Static } from "@sinclair/typebox";
import { AuditEntrySchema } from "./key-events";
import { KeyModeSchema } from "./policy";

export const AUDIT_LIMIT = { default: 20, max: 100 } as const;

export const AuditQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: "^(100|[1-9][0-9]?)$", description: "entries per page, 1..100; default 20" })),
  cursor: Type.Optional(Type.String({ maxLength: 100, description: "opaque: `meta.nextCursor` of the previous answer" })),
  mode: Type.Optional(KeyModeSchema),
});
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditResponse = Type.Object(
  {
    success: Type.Literal(true),
    data: Type.Array(AuditEntrySchema),
    meta: Type.Object({
      limit: Type.Integer(),
      /** Null on the last page. */
      nextCursor: Type.Union([Type.String(), Type.Null()]),
    }),
  },
  { $id: "AuditResponse" },
);
export type AuditResponse = Static<typeof AuditResponse>;
