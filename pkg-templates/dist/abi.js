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
    // The length's digits, read without a regular expression (this runs on every call).
    let n = 0;
    let colon = at;
    for (let c = text.charCodeAt(colon); c >= 48 && c <= 57; c = text.charCodeAt(++colon)) n = n * 10 + c - 48;
    const end = colon + 1 + n;
    if (colon === at || text.charCodeAt(colon) !== 58 || end > text.length) {
      throw new HooksealError('invalid_input', 'internal: a malformed field list crossed from wasm');
    }
    out.push(text.slice(colon + 1, end));
    at = end;
  }
  return out;
}

/**
 * The error a wasm call threw, as a `HooksealError`: the module throws a field list of code,
 * whether the signature verified (`1`/`0`) and message; the HTTP status follows from the code
 * (codes.js, the core's table). Anything else (a trap) is passed through.
 */
export function fromCore(e) {
  if (typeof e !== 'string') return e;
  const [code, verified, message] = decode(e);
  return new HooksealError(code, message, verified === '1');
}
