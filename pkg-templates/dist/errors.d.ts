// The types of errors.js.
import type { HooksealErrorCode } from './codes.js';

/** The error hookseal throws: an `Error` with a stable `code` to switch on. */
export declare class HooksealError extends Error {
  constructor(code: HooksealErrorCode, message: string, signatureVerified?: boolean);
  readonly name: 'HooksealError';
  readonly code: HooksealErrorCode;
  /** True when the signature verified but the body is not the documented event. */
  readonly signatureVerified: boolean;
  /** The HTTP status to answer with: the same as `statusFor(error)`. */
  readonly status: number;
}

/**
 * The HTTP status to answer a failed webhook with: 401 not authentic or not fresh (403 for a
 * refused Meta handshake), 413 too large, 400 bad body, 500 receiver configuration (and
 * anything that is not a `HooksealError`).
 */
export declare function statusFor(error: unknown): number;
