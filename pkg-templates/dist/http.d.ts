// The types of http.js.
import type { HooksealError } from './errors.js';
import type { Delivery, VerifyOptions, Webhook } from './webhook.js';

/** `readBody`'s default body limit, 4 MiB: above Meta's documented 3 MB. */
export declare const DEFAULT_LIMIT: number;

export interface LimitOptions {
  /**
   * The largest body accepted, in bytes. Default: the webhook's `maxBodyBytes` (the largest
   * payload its provider documents), or `DEFAULT_LIMIT` for `readBody`.
   */
  limit?: number;
}

/** A verified delivery, its events, and the raw body bytes. */
export interface VerifiedRequest extends Delivery {
  body: Uint8Array;
}

/** Reads a Fetch `Request` once, verifies and parses it. */
export declare function verifyRequest(
  webhook: Webhook,
  request: Request,
  options?: LimitOptions & Pick<UrlOptions, 'publicUrl'> & Pick<VerifyOptions, 'now'>,
): Promise<VerifiedRequest>;

/** A Node request, as far as `readBody` needs one. */
export interface NodeRequestLike {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  url?: string;
  body?: unknown;
  readableEnded?: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** The raw body of a Node request, from the stream or from `express.raw()`. */
export declare function readBody(req: NodeRequestLike, options?: LimitOptions): Promise<Uint8Array>;

/** Where the URL a sender signed comes from (HubSpot signs it). */
export interface UrlOptions {
  /**
   * The origin the provider posts to, as configured there (`https://hooks.example.com`); the
   * request's path and query are appended. Takes precedence over everything else.
   */
  publicUrl?: string;
  /**
   * Trust `X-Forwarded-Proto` and `X-Forwarded-Host`, set by a proxy in front of the app.
   * Default `false`: anyone can send these headers.
   */
  trustProxy?: boolean;
}

/** The URL a Node request was sent to, built as `UrlOptions` say. */
export declare function requestUrl(req: NodeRequestLike, options?: UrlOptions): string;

export interface MiddlewareOptions extends LimitOptions, UrlOptions, Pick<VerifyOptions, 'now'> {
  /** Called with each refusal (for logging) before the response is sent. */
  onError?: (error: HooksealError, req: NodeRequestLike) => void;
}

/** Express / `http` middleware: sets `req.hookseal` or answers the refusal. */
export declare function middleware(
  webhook: Webhook,
  options?: MiddlewareOptions,
): (req: any, res: any, next: (error?: unknown) => void) => void;
