/**
 * Webhooks (issue 13): owners register HTTPS endpoints that receive their key
 * events (key-events.ts), signed the Standard Webhooks way. These are the
 * wire shapes of /api/v1/keys/webhooks; the bounds are part of the contract
 * (400 VALIDATION_ERROR beyond them).
 */
import { Type, type Static } from "@sinclair/typebox";
import { KEY_EVENT_TYPES, type KeyEventType } from "./key-events";
import { KeyModeSchema } from "./policy";
import { Text } from "./text";

export const WEBHOOK_LIMITS = {
  /** Live (not deleted) endpoints per owner; one more is 400 VALIDATION_ERROR. */
  endpointsPerOwner: 10,
  urlMaxLength: 2048,
  descriptionMaxLength: 200,
  deliveriesPageMax: 100,
  deliveriesPageDefault: 20,
} as const;

/** `["*"]` subscribes to every key event type, present and future. */
export const ALL_EVENTS = "*";

/** The durable JetStream consumer on the key-events stream that every keys replica shares for webhooks. */
export const WEBHOOK_CONSUMER = "webhooks";

const Timestamp = Type.String({ format: "date-time", examples: ["2026-12-01T12:00:00.000Z"] });
const EventName = Type.Union([...KEY_EVENT_TYPES.map((t) => Type.Literal(t)), Type.Literal(ALL_EVENTS)]);

export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: WEBHOOK_LIMITS.urlMaxLength, description: "https:// (http:// only where private targets are allowed)" }),
    events: Type.Array(EventName, {
      minItems: 1,
      maxItems: KEY_EVENT_TYPES.length + 1,
      uniqueItems: true,
      description: 'key event types to receive, or ["*"] for all',
    }),
    description: Type.Optional(Text({ maxLength: WEBHOOK_LIMITS.descriptionMaxLength })),
    mode: Type.Optional(KeyModeSchema),
  },
  { additionalProperties: false, $id: "CreateWebhookBody" },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const WebhookView = Type.Object({
  id: Type.String({ examples: ["wh_5Tq2wWc1Jp0oY3n9ZrB8xA"] }),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  mode: KeyModeSchema,
  createdAt: Timestamp,
});
export type WebhookView = Static<typeof WebhookView>;

export const CreatedWebhook = Type.Composite([WebhookView, Type.Object({ secret: Type.String({ description: "whsec_<base64 of 32 bytes>: the signing secret. Shown once; store it safely." }) })]);
export type CreatedWebhook = Static<typeof CreatedWebhook>;

export const CreateWebhookResponse = Type.Object({ success: Type.Literal(true), data: CreatedWebhook }, { $id: "CreateWebhookResponse" });
export const WebhookListResponse = Type.Object({ success: Type.Literal(true), data: Type.Array(WebhookView) }, { $id: "WebhookListResponse" });
export const DeleteWebhookResponse = Type.Object({ success: Type.Literal(true), message: Type.String() }, { $id: "DeleteWebhookResponse" });
export const WEBHOOK_DELETED_MESSAGE = "Webhook endpoint deleted.";

export const WebhookIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const DeliveriesQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: "^(100|[1-9][0-9]?)$", description: "deliveries per page, 1..100; default 20" })),
  cursor: Type.Optional(Type.String({ maxLength: 64, description: "opaque: `meta.nextCursor` of the previous page" })),
});
export type DeliveriesQuery = Static<typeof DeliveriesQuery>;

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const DeliveryAttempt = Type.Object({
  at: Timestamp,
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Integer(),
});

export const DeliveryView = Type.Object({
  eventId: Type.String(),
  eventType: Type.String(),
  status: Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("failed")]),
  attempts: Type.Array(DeliveryAttempt),
  nextAttemptAt: Type.Union([Timestamp, Type.Null()]),
});
export type DeliveryView = Static<typeof DeliveryView>;

export const DeliveriesResponse = Type.Object(
  {
    success: Type.Literal(true),
    data: Type.Array(DeliveryView),
    meta: Type.Object({ limit: Type.Integer(), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
  },
  { $id: "DeliveriesResponse" },
);

/** Does an endpoint subscribed to `events` want an event of `type`? */
export const wantsEvent = (events: readonly string[], type: KeyEventType): boolean => events.includes(ALL_EVENTS) || events.includes(type);
