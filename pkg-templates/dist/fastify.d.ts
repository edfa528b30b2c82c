import type { Webhook, VerifyOptions } from './webhook.js';
import type { HooksealError } from './errors.js';
import type { LimitOptions, UrlOptions, VerifiedRequest } from './http.js';

export interface FastifyHooksealOptions extends LimitOptions, UrlOptions, Pick<VerifyOptions, 'now'> {
  /** The webhook that verifies this scope's requests. */
  webhook: Webhook;
  /** Called with each refusal (for logging) before the response is sent. */
  onError?: (error: HooksealError, request: unknown) => void;
}

/**
 * A Fastify plugin: raw bodies in the scope it is registered in, each request verified and parsed
 * before its handler (`request.hookseal`), refusals answered (401, 413, 400).
 */
export declare function hookseal(fastify: any, options: FastifyHooksealOptions, done: (err?: Error) => void): void;
