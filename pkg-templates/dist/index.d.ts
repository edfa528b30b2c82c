// The generated declarations give `Webhook` a `[Symbol.dispose]` method: bring in the lib that
// declares it, so projects on an older `lib` setting type-check with skipLibCheck off.
/// <reference lib="esnext.disposable" />
// The API: the classes, functions and types generated from Rust (./hookseal.js), and the
// small JS helpers for Fetch requests and Node/Express (./helpers.js).
export { Webhook, metaHandshake } from './hookseal.js';
export type {
  Body, Delivery, GenericScheme, HeadersInput, HooksealErrorCode, HooksealEvent, InboundMessage,
  MediaRef, MessageKind, MetaMessage, MetaStatus, MoltFlowLead, MoltFlowMessage, MoltFlowSession,
  MoltFlowTest, MossmoonDelivery, MossmoonLine, MossmoonMessage, Provider, SchemeName, SignOptions,
  Tolerance, Verified, VerifyOptions, WebhookOptions,
} from './hookseal.js';
export * from './helpers.js';
