// The wire format between this package's JS and its wasm module: the JS half of
// wasm/src/abi.rs, which documents every crossing. Internal.
//
// A field list is a string of fields, one after another, each `-` (absent) or `<n>:<text>`
// (present; `n` is the text's length as JS counts it, in UTF-16 code units).

import { HooksealError } from './errors.js';

/** A field list of `values`; `undefined` is absent. */
export function encode(values) {
  let out = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out += v === undefined ? '-' : `${v.length}:${v}`;
  }
  return out;
}

/** The fields of a list (`undefined` where absent). Throws on a list the format does not allow. */
export function decode(text) {
  const out = [];
  let at = 0;
  while (at < text.length) {
    if (text.charCodeAt(at) === 45 /* - */) {
      out.push(undefined);
      at += 1;
      continue;
    }
    const colon = text.indexOf(':', at);
    const digits = text.slice(at, colon);
    const n = Number(digits);
    const end = colon + 1 + n;
    if (colon < 0 || !/^[0-9]+$/.test(digits) || end > text.length) {
      throw new HooksealError('invalid_input', 'internal: a malformed field list crossed from wasm');
    }
    out.push(text.slice(colon + 1, end));
    at = end;
  }
  return out;
}

/**
 * The error a wasm call threw, as a `HooksealError`: the module throws a field list of code,
 * HTTP status, whether the signature verified (`1`/`0`) and message. Anything else (a trap) is
 * passed through.
 */
export function fromCore(e) {
  if (typeof e !== 'string') return e;
  const [code, status, verified, message] = decode(e);
  const error = new HooksealError(code, message, verified === '1');
  error.status = Number(status);
  return error;
}
