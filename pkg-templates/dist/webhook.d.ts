// The types of the `Webhook` class (webhook.js), Meta's handshake, and the data they take and
// return. Hand-written next to the JS they describe; tests/js/types.test.mjs checks every event
// fixture's JSON against `HooksealEvent`, and codes.d.ts is generated from the core's tables.

import type { HooksealErrorCode, SchemeName } from './codes.js';

export type { HooksealErrorCode, SchemeName };

/**
 * Verifies (and signs) webhooks of one scheme.
 *
 * ```js
 * const wh = new Webhook("mossmoon", process.env.MOSSMOON_SECRET);
 * const { events } = wh.parse(rawBody, request.headers);
 * ```
 */
export declare class Webhook {
  /**
   * A webhook verifier for `scheme`, accepting any of `secrets` (rotation: give the old and the
   * new). Signing uses the first secret.
   */
  constructor(scheme: SchemeName | { generic: GenericScheme }, secrets: string | string[], options?: WebhookOptions);
  /** The scheme's canonical name. */
  readonly scheme: string;
  /**
   * The default body limit of the HTTP helpers for this scheme, in bytes: the largest payload the
   * provider documents, rounded up (4 MiB for most, Meta's 3 MB included; 25 MiB for GitHub).
   */
  readonly maxBodyBytes: number;
  /**
   * Verifies the raw body against the headers. Throws a `HooksealError` when the request is not
   * authentic or not fresh; returns what verification established (a frozen object, shared
   * between calls when it carries no id or timestamp).
   */
  verify(body: Body, headers: HeadersInput, options?: VerifyOptions): Verified;
  /**
   * Verifies, then parses the body into events. A `HooksealError` whose `signatureVerified` is
   * true means the signature was good but the body is not the documented event.
   */
  parse(body: Body, headers: HeadersInput, options?: VerifyOptions): Delivery;
  /** The headers a sender would send with `body` (signed with the first secret). */
  sign(body: Body, options?: SignOptions): Record<string, string>;
  /** Frees the keys now rather than at garbage collection. */
  free(): void;
  [Symbol.dispose](): void;
}

/**
 * Answers Meta's subscription handshake: pass the request's query (a `URLSearchParams`, a query
 * string, or a plain object) and your verify token. Returns the challenge to send back as the
 * body with status 200; throws `HooksealError` (`handshake_rejected`) otherwise.
 */
export declare function metaHandshake(
  query: URLSearchParams | string | Record<string, string>,
  verifyToken: string,
): string;

/** A scheme described by data, for a provider hookseal does not ship. */
export interface GenericScheme {
  signatureHeader: string;
  algorithm: "sha256" | "sha512";
  encoding: "hex" | "base64" | "base64url";
  /** Before each signature, e.g. `sha256=` or `v1,`. Default none. */
  prefix?: string;
  /** Template over `{body}` (required), `{id}`, `{timestamp}`, `{method}`, `{url}`. Default `{body}`. */
  signed?: string;
  idHeader?: string;
  timestampHeader?: string;
  timestampUnit?: "seconds" | "milliseconds";
  secretEncoding?: "utf8" | "whsec" | "base64" | "hex";
  tolerance?: Tolerance;
}

/** A replay window in seconds each way; `null` is unbounded. Both sides must be given. */
export interface Tolerance { past: number | null; future: number | null }

export interface WebhookOptions {
  /** Seconds both ways, `false` to disable, or a window. Default: the scheme's own. */
  tolerance?: number | false | Tolerance;
}

export interface VerifyOptions {
  /** "Now" in unix seconds. Default `Date.now() / 1000`. */
  now?: number;
  /**
   * The request method, for schemes that sign it (HubSpot v3, a template with `{method}`).
   * Default `"POST"`: webhooks are POSTs. Twilio and Bird do not sign it.
   */
  method?: string;
  /**
   * The full URL the sender posted to (scheme, host, path and query), for schemes that sign it:
   * Twilio, Bird, HubSpot v3, a template with `{url}`. Without it they answer
   * `missing_request_target`.
   */
  url?: string;
}

export interface SignOptions {
  /** Unix seconds. Default now. */
  timestamp?: number;
  /** The delivery id (required by Standard Webhooks and Svix). */
  id?: string;
  /** The request method, for schemes that sign it. Default `"POST"`. */
  method?: string;
  /** The full URL, for schemes that sign it (Twilio, Bird, HubSpot v3, `{url}`). */
  url?: string;
}

/** What verification established (frozen, and shared between calls when it has no id or timestamp). */
export interface Verified {
  /** The delivery id, when the scheme signs one (Standard Webhooks, Svix, a generic `{id}`). */
  id?: string;
  /** The signed timestamp, unix seconds, when the scheme signs one. */
  timestamp?: number;
  /** Which of the secrets matched. */
  secretIndex: number;
}

/** A body: bytes exactly as received, or the raw text. */
export type Body = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/** Headers: a Fetch `Headers`, a `Map`, a plain object, or Node's `IncomingHttpHeaders`. */
export type HeadersInput =
  | { get(name: string): string | null | undefined }
  | Record<string, string | string[] | undefined>;

export type Provider = SchemeName | "generic";

export interface MediaRef {
  id: string | null; url: string | null; mimeType: string | null;
  sha256: string | null; filename: string | null;
}

export type MessageKind =
  | "text" | "image" | "video" | "audio" | "document" | "sticker" | "location" | "contacts"
  | "interactive" | "button" | "reaction" | (string & {});

/** One view of an inbound WhatsApp message, whichever provider delivered it. */
export interface InboundMessage {
  providerMessageId: string;
  /** Digits only. */
  sender: string;
  senderName: string | null;
  /** The sender's digits for a one-to-one chat; the group id for a group. */
  chat: string;
  isGroup: boolean;
  kind: MessageKind;
  /** Text, or a media caption. */
  text: string | null;
  media: MediaRef | null;
  receivedAt: number | null;
}

export interface MoltFlowMessage {
  sessionId: string | null; from: string | null; fromName: string | null; to: string | null;
  body: string | null; messageId: string; chatId: string | null;
}
export interface MoltFlowSession {
  sessionId: string; oldStatus: string | null; newStatus: string; reason: string | null;
}
export interface MoltFlowLead {
  sessionId: string | null; groupId: string | null; phone: string; name: string | null;
  messagePreview: string | null; capturedAt: number | null;
}
export interface MoltFlowTest { message: string | null }
export interface MossmoonLine { lineId: string; phone: string | null; reason: string | null }
export interface MossmoonMessage {
  lineId: string | null; messageId: string; from: string; type: string; text: string | null;
  caption: string | null; media: MediaRef | null; receivedAt: number | null;
}
export interface MossmoonDelivery {
  lineId: string | null; messageId: string; to: string | null; deliveredAt: number | null;
}
export interface MetaMessage {
  phoneNumberId: string | null; displayPhoneNumber: string | null; from: string;
  contactName: string | null; id: string; timestamp: number | null; type: string;
  text: string | null; caption: string | null; media: MediaRef | null;
  location: { latitude: number; longitude: number; name: string | null; address: string | null } | null;
  reply: { type: string; id: string | null; title: string | null } | null;
  reaction: { messageId: string | null; emoji: string | null } | null;
  contextId: string | null;
}
export interface MetaStatus {
  phoneNumberId: string | null; id: string; status: string; timestamp: number | null;
  recipientId: string | null;
  errors: { code: number | null; title: string | null; message: string | null }[];
}

export interface TwilioMessage {
  messageSid: string; accountSid: string | null; from: string; to: string | null;
  body: string | null; profileName: string | null; waId: string | null; messageType: string | null;
  media: MediaRef[];
  /** Decimal text, exactly as Twilio sent it. */
  location: { latitude: string; longitude: string; address: string | null; label: string | null } | null;
  button: { text: string | null; payload: string | null } | null;
  repliedTo: string | null;
}
export interface TwilioStatus {
  messageSid: string; status: string; errorCode: number | null; errorMessage: string | null;
  accountSid: string | null; from: string | null; to: string | null;
}
export interface VonageMessage {
  messageUuid: string; channel: string | null; from: string; to: string | null;
  profileName: string | null; messageType: string; text: string | null; media: MediaRef | null;
  caption: string | null;
  location: { latitude: number; longitude: number; name: string | null; address: string | null } | null;
  replyId: string | null; contextId: string | null; timestamp: number | null;
}
export interface VonageStatus {
  messageUuid: string; status: string; channel: string | null; to: string | null; from: string | null;
  timestamp: number | null; error: { code: string | null; detail: string | null } | null;
  clientRef: string | null;
}

interface EventBase<P extends Provider, T extends string, D> {
  provider: P;
  type: T;
  /** The provider's id for the event, when it gives one. */
  id: string | null;
  /** Unix seconds. */
  occurredAt: number | null;
  /** Stays the same across retries of this event; differs between events. */
  dedupKey: string;
  data: D;
  message: InboundMessage | null;
}

/**
 * An event: one of the types hookseal knows (`KnownEvent`), or any other type a provider sends,
 * which keeps the provider's name in `type` and the raw JSON in `data` (`UnknownEvent`). Every
 * event has `message`, the normalized view of an inbound message.
 *
 * `data` is typed once the type is known to be one hookseal parses: check `provider` and `type`,
 * then read `data` through `KnownEvent` (`(event as KnownEvent)`), or use `message`.
 */
export type HooksealEvent = KnownEvent | UnknownEvent;

/** An event of a type hookseal parses: `data` narrows on `provider` and `type`. */
export type KnownEvent =
  | EventBase<"moltflow", "message.received" | "message.sent", MoltFlowMessage>
  | EventBase<"moltflow", "session.status_changed", MoltFlowSession>
  | EventBase<"moltflow", "lead.captured", MoltFlowLead>
  | EventBase<"moltflow", "webhook.test", MoltFlowTest>
  | EventBase<"mossmoon", "line.ready" | "line.disconnected", MossmoonLine>
  | EventBase<"mossmoon", "message.received", MossmoonMessage>
  | EventBase<"mossmoon", "message.delivered", MossmoonDelivery>
  | EventBase<"meta", "message.received", MetaMessage>
  | EventBase<"meta", "message.sent" | "message.delivered" | "message.read" | "message.failed", MetaStatus>
  | EventBase<"twilio", "message.received", TwilioMessage>
  | EventBase<"twilio", "message.queued" | "message.sending" | "message.sent" | "message.delivered" | "message.read" | "message.failed" | "message.undelivered", TwilioStatus>
  | EventBase<"vonage", "message.received", VonageMessage>
  | EventBase<"vonage", "message.submitted" | "message.delivered" | "message.read" | "message.rejected" | "message.undeliverable", VonageStatus>;

/** An event of a type hookseal does not parse (any provider): the raw JSON as `data`. */
export type UnknownEvent = EventBase<Provider, string, unknown>;

/** A verified delivery and its events (one per Meta message and status). */
export interface Delivery { verified: Verified; events: HooksealEvent[] }
