// The error hookseal throws, and the HTTP status to answer each code with. The codes and their
// statuses come from one table in the core (ERROR_CODES in src/error.rs), generated into
// codes.js at build time.

import { STATUSES } from './codes.js';

/** The error hookseal throws: an `Error` with a stable `code` to switch on. */
export class HooksealError extends Error {
  constructor(code, message, signatureVerified = false) {
    super(message);
    this.name = 'HooksealError';
    this.code = code;
    this.signatureVerified = signatureVerified;
    /** The HTTP status to answer with (see `statusFor`). */
    this.status = STATUSES.get(code) ?? 500;
  }

  /** `instanceof` holds across copies of the package (CommonJS and ESM, bundles). */
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === 'HooksealError' && typeof value.code === 'string';
  }
}

/**
 * The HTTP status to answer a failed webhook with: 401 when it is not authentic or not fresh
 * (403 for a refused Meta handshake), 413 when too large, 400 for a body that verified but is not
 * the documented event (or bad input), 500 for the receiver's own configuration problems, and
 * 500 for anything that is not a `HooksealError`.
 */
export function statusFor(error) {
  if (!(error instanceof HooksealError)) return 500;
  return STATUSES.get(error.code) ?? (error.signatureVerified ? 400 : 500);
}

export function invalidInput(message) {
  return new HooksealError('invalid_input', message);
}

export function tooLarge(limit) {
  return new HooksealError('body_too_large', `the body is larger than the ${limit}-byte limit`);
}
