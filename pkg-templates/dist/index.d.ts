// `Webhook` declares a `[Symbol.dispose]` method: bring in the lib that declares the symbol, so
// projects on an older `lib` setting type-check with skipLibCheck off.
/// <reference lib="esnext.disposable" />
// The API: the `Webhook` class and its data types (./webhook.js), the error class and statuses
// (./errors.js), and the HTTP helpers for Fetch requests and Node/Express (./http.js).
export { Webhook, metaHandshake } from './webhook.js';
export { Filter, matches } from './filter.js';
export type { FilterSpec } from './filter.js';
export type {
  Body, Delivery, GenericScheme, HeadersInput, HooksealErrorCode, HooksealEvent, InboundMessage, KnownEvent,
  MediaRef, MessageKind, MetaMessage, MetaStatus, MoltFlowLead, MoltFlowMessage, MoltFlowSession,
  MoltFlowTest, MossmoonDelivery, MossmoonLine, MossmoonMessage, Provider, SchemeName, SignOptions,
  TwilioMessage, TwilioStatus, VonageMessage, VonageStatus,
  Tolerance, UnknownEvent, Verified, VerifyOptions, WebhookOptions,
} from './webhook.js';
export { HooksealError, statusFor } from './errors.js';
export * from './http.js';
