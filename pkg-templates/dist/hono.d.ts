import type { Webhook } from './webhook.js';
import type { HooksealError } from './errors.js';
import type { LimitOptions, VerifiedRequest } from './http.js';
import type { VerifyOptions } from './webhook.js';

export interface HonoOptions extends LimitOptions, Pick<VerifyOptions, 'now'> {
  /** The origin the provider posts to (`https://hooks.example.com`), for schemes that sign the URL. */
  publicUrl?: string;
  /** Called with each refusal (for logging) before the response is sent. */
  onError?: (error: HooksealError, c: HonoContextLike) => void;
}

/** What the middleware needs of a Hono context. */
export interface HonoContextLike {
  req: { raw: Request };
  set(key: 'hookseal', value: VerifiedRequest): void;
  json(body: unknown, status?: number): Response;
}

/**
 * Hono middleware: verifies and parses the raw body and sets `c.get('hookseal')` to
 * `{ verified, events, body }`; answers refusals itself (401, 413, 400).
 */
export declare function hookseal(
  webhook: Webhook,
  options?: HonoOptions,
): (c: any, next: () => Promise<void>) => Promise<Response | void>;

/** Declare `hookseal` on your Hono app's variables: `new Hono<{ Variables: HooksealVariables }>()`. */
export interface HooksealVariables {
  hookseal: VerifiedRequest;
}
