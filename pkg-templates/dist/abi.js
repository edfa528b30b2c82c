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

const encoder = new TextEncoder();
/** Reused buffers larger than this are not kept between calls. */
const KEEP = 64 * 1024;
let listScratch = new Uint8Array(1024);
let bodyScratch = new Uint8Array(4096);

/** A reused buffer of at least `n` bytes for the header list (kept when not too large). */
function listBuffer(n) {
  const buf = n <= listScratch.length ? listScratch : new Uint8Array(n);
  if (buf.length <= KEEP) listScratch = buf;
  return buf;
}

/**
 * The field list of `values` as UTF-8 bytes, for a call that crosses to wasm at once (the module
 * copies them before any user code can run, so the buffer is reused from call to call);
 * `undefined` when a value holds a line break, which no HTTP header can.
 *
 * Header values are ASCII in practice: they are written a character at a time, which in workerd
 * costs a third of what one `TextEncoder` call does (measured: 0.4 µs a verification at 256 B).
 * A value with anything else goes through `encode` and `TextEncoder`.
 */
export function encodeBytes(values) {
  let need = 0;
  for (let i = 0; i < values.length; i++) need += values[i] === undefined ? 1 : values[i].length + 11;
  const buf = listBuffer(need);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === undefined) {
      buf[at++] = 45; // -
      continue;
    }
    const n = String(v.length);
    for (let k = 0; k < n.length; k++) buf[at++] = n.charCodeAt(k);
    buf[at++] = 58; // :
    for (let k = 0; k < v.length; k++) {
      const c = v.charCodeAt(k);
      if (c > 127 || c === 10 || c === 13) return encodeText(values);
      buf[at++] = c;
    }
  }
  return buf.subarray(0, at);
}

function encodeText(values) {
  const list = encode(values);
  if (list.includes('\n') || list.includes('\r')) return undefined;
  const buf = listBuffer(list.length * 3);
  return buf.subarray(0, encoder.encodeInto(list, buf).written);
}

/**
 * The bytes of a body (bytes as they are, a string as its UTF-8), for a call that crosses to
 * wasm at once (as `encodeBytes`): a small string is written into a reused buffer, which saves
 * an allocation a call.
 */
export function bodyBytes(body) {
  if (typeof body !== 'string') return body;
  if (body.length * 3 > KEEP) return encoder.encode(body);
  if (body.length * 3 > bodyScratch.length) bodyScratch = new Uint8Array(body.length * 3);
  return bodyScratch.subarray(0, encoder.encodeInto(body, bodyScratch).written);
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
