// The `Webhook` class over the wasm core, and Meta's handshake. The class reads the caller's JS
// values here (bodies in their several forms, header maps, options), where reading them is
// cheap, and calls the core once with bytes, strings and numbers (abi.js says how).

import { bodyBytes, decode, encode, encodeBytes, fromCore } from './abi.js';
import { HooksealError, invalidInput, tooLarge } from './errors.js';

/**
 * The largest body hookseal hands to its wasm core at all: past this the module's memory could
 * not hold it and the instance would trap. A string counts three bytes a character (its UTF-8
 * worst case).
 */
const MAX_WASM_BODY = 512 * 1024 * 1024;

const BODY_ERROR = 'the body must be a Uint8Array, Buffer, ArrayBuffer, typed array or string: ' +
  'pass the raw body as received, before any JSON parsing';
const HEADERS_ERROR = 'headers must be a Fetch Headers, a Map or a plain object';
const DETACHED_ERROR = 'the body\'s ArrayBuffer is detached (transferred or consumed): pass the bytes before transferring them';
const toString = Object.prototype.toString;
const LINE_BREAK = /[\r\n]/;
const encoder = new TextEncoder();

/**
 * The body as the core can take it: a string, or a view of the caller's bytes (never a copy);
 * refused when it cannot reach the core. A string is encoded (`bodyBytes`) just before the call.
 */
function bodyOf(body) {
  if (typeof body === 'string') {
    if (body.length * 3 > MAX_WASM_BODY) throw tooLarge(MAX_WASM_BODY);
    return body;
  }
  let b;
  if (body instanceof Uint8Array) {
    b = body;
  } else {
    const tag = toString.call(body);
    const view = ArrayBuffer.isView(body);
    if (!view && tag !== '[object ArrayBuffer]' && tag !== '[object SharedArrayBuffer]') {
      throw invalidInput(BODY_ERROR);
    }
    try {
      b = view ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : new Uint8Array(body);
    } catch {
      // A detached ArrayBuffer (transferred to a worker, or a consumed stream's buffer).
      throw invalidInput(DETACHED_ERROR);
    }
  }
  if (isDetached(b.buffer)) throw invalidInput(DETACHED_ERROR);
  if (b.byteLength > MAX_WASM_BODY) throw tooLarge(MAX_WASM_BODY);
  return b;
}

function isDetached(buffer) {
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  // Runtimes without `ArrayBuffer.prototype.detached`: a detached buffer has no bytes and
  // cannot be viewed again.
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** A header value: a string, or an array of strings (Node's repeated headers), joined as Fetch does. */
function headerValue(v) {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return undefined;
  const parts = v.filter((x) => typeof x === 'string');
  return parts.length ? parts.join(', ') : undefined;
}

function asciiLower(s) {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * The values of the headers `lower` names (lower case; `exact` as the provider spells them):
 * looked up directly on a plain object or Node's `IncomingHttpHeaders`, through `get` on a Fetch
 * `Headers` (case-insensitive) or a `Map` (lower case, then as spelled), and for a plain object
 * with other casing, by one scan of its keys.
 */
function readHeaders(h, lower, exact) {
  if (h === null || typeof h !== 'object') throw invalidInput(HEADERS_ERROR);
  const got = [];
  let missing = false;
  for (let i = 0; i < lower.length; i++) {
    const v = headerValue(h[lower[i]]);
    if (v === undefined) missing = true;
    got.push(v);
  }
  if (!missing) return got;
  const get = h.get;
  if (typeof get === 'function') {
    for (let i = 0; i < lower.length; i++) {
      if (got[i] !== undefined) continue;
      let v = headerValue(get.call(h, lower[i]));
      if (v === undefined && exact[i] !== lower[i]) v = headerValue(get.call(h, exact[i]));
      got[i] = v;
    }
    return got;
  }
  // Only keys as long as a missing name can match: most keys are skipped on their length.
  let lengths = 0;
  for (let i = 0; i < lower.length; i++) {
    if (got[i] === undefined) lengths |= 1 << (lower[i].length & 31);
  }
  let seen = 0;
  for (const k of Object.keys(h)) {
    if ((lengths & (1 << (k.length & 31))) === 0) continue;
    const i = lower.indexOf(asciiLower(k));
    if (i < 0 || (seen & (1 << i)) !== 0) continue;
    seen |= 1 << i;
    if (got[i] === undefined) got[i] = headerValue(h[k]);
  }
  return got;
}

function option(options, key) {
  if (options === undefined || options === null) return undefined;
  const v = options[key];
  return v === null ? undefined : v;
}

function optString(options, key) {
  const v = option(options, key);
  if (v === undefined || typeof v === 'string') return v;
  throw invalidInput(`option \`${key}\` must be a string`);
}

function optNumber(options, key) {
  const v = option(options, key);
  if (v === undefined || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw invalidInput(`option \`${key}\` must be a finite number`);
}

/**
 * The `tolerance` option, checked where JSON would hide a mistake: `NaN` and `Infinity` become
 * `null` (unbounded) through `JSON.stringify`, so they are refused here. The core checks the rest.
 */
function toleranceOf(t) {
  const finite = (v) => v === null || v === undefined || (typeof v === 'number' && Number.isFinite(v));
  const ok = t === false || (typeof t === 'number' && Number.isFinite(t))
    || (t !== null && typeof t === 'object' && finite(t.past) && finite(t.future));
  if (!ok) {
    throw new HooksealError('invalid_config',
      'invalid configuration: tolerance must be whole seconds, false, or { past, future } with finite seconds or null');
  }
  return json(t);
}

function json(value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    // A cycle or a BigInt: reported below.
  }
  if (typeof text !== 'string') throw invalidInput('options must be JSON-like');
  return text;
}

// What a call asks of the core: `check` (the secret index, a number: for a scheme that signs
// neither a timestamp nor an id), `run` to verify (a field list) or to parse (JSON text).
const CHECK = 0;
const VERIFY = 1;
const PARSE = 2;

/**
 * The API over one instance of the wasm glue (`Core`): each package entry loads the .wasm its
 * own way, then calls this once. Internal.
 */
export function bind(glue) {
  class Webhook {
    #core;
    #lower;
    #exact;
    #usesTimestamp;
    #indexOnly;
    #scheme;
    #maxBodyBytes;
    #plain = [];

    constructor(scheme, secrets, options) {
      // A name or `{ generic: { … } }`, read by the core as configuration JSON.
      const ok = typeof scheme === 'string' || (scheme !== null && typeof scheme === 'object'
        && Object.keys(scheme).length === 1 && scheme.generic !== null && typeof scheme.generic === 'object');
      if (!ok) throw invalidInput('the scheme must be a name or { generic: { ... } }');
      let list;
      if (typeof secrets === 'string') {
        list = [secrets];
      } else if (Array.isArray(secrets)) {
        if (!secrets.every((s) => typeof s === 'string')) throw invalidInput('every secret must be a string');
        list = secrets;
      } else if (secrets === undefined || secrets === null) {
        list = []; // reported by the core as "no secrets", with its stable code
      } else {
        throw invalidInput('secrets must be a string or an array of strings');
      }
      // `true` keeps the scheme's window; anything else is read by the core.
      const t = options === undefined || options === null ? undefined : options.tolerance;
      const tolerance = t === undefined || t === true ? undefined : toleranceOf(t);
      try {
        this.#core = new glue.Core(json(scheme), encode(list), tolerance);
      } catch (e) {
        throw fromCore(e);
      }
      const [name, maxBodyBytes, usesTimestamp, signsId, ...names] = decode(this.#core.info());
      this.#scheme = name;
      this.#maxBodyBytes = Number(maxBodyBytes);
      this.#usesTimestamp = usesTimestamp === '1';
      // Verification then establishes the secret index and nothing else.
      this.#indexOnly = usesTimestamp === '0' && signsId === '0';
      this.#exact = names;
      this.#lower = names.map(asciiLower);
    }

    get scheme() {
      return this.#scheme;
    }

    get maxBodyBytes() {
      return this.#maxBodyBytes;
    }

    verify(body, headers, options) {
      if (this.#indexOnly) {
        // Nothing but the index: one frozen result per secret index, made once.
        const index = this.#call(CHECK, body, headers, options);
        return this.#plain[index] ?? (this.#plain[index] = Object.freeze({ secretIndex: index }));
      }
      // Everything verification established, from one call: secret index, timestamp, id.
      const [index, timestamp, id] = decode(this.#call(VERIFY, body, headers, options));
      const out = { secretIndex: Number(index) };
      if (timestamp !== undefined) out.timestamp = Number(timestamp);
      if (id !== undefined) out.id = id;
      return Object.freeze(out);
    }

    parse(body, headers, options) {
      return JSON.parse(this.#call(PARSE, body, headers, options));
    }

    /** The live core, or an `invalid_input` error once `free()` was called. */
    #live() {
      if (this.#core === undefined) throw invalidInput('this Webhook was freed: create a new one');
      return this.#core;
    }

    #call(kind, body, headers, options) {
      const core = this.#live();
      // The options first: a getter there runs user code, which may even call this Webhook
      // again; everything this call needs is then read into locals, never kept on `this`.
      const now = optNumber(options, 'now') ?? (this.#usesTimestamp ? Date.now() / 1000 : 0);
      const method = optString(options, 'method');
      const url = optString(options, 'url');
      const b = bodyOf(body);
      const got = readHeaders(headers, this.#lower, this.#exact);
      // The request line (for schemes that sign it) follows the header values.
      got.push(method, url);
      // No user code runs from here to the call: the reused buffers cannot be overwritten.
      const values = encodeBytes(got);
      // A plain object can hold what no HTTP header can: refused, never misread.
      if (values === undefined) {
        throw invalidInput(LINE_BREAK.test(`${method ?? ''}${url ?? ''}`)
          ? 'options `method` and `url` must be a single line' : 'a header value contains a line break');
      }
      const bytes = bodyBytes(b);
      try {
        return kind === CHECK ? core.check(bytes, values, now) : core.run(kind === PARSE, bytes, values, now);
      } catch (e) {
        throw fromCore(e);
      }
    }

    sign(body, options) {
      const core = this.#live();
      const timestamp = optNumber(options, 'timestamp') ?? Date.now() / 1000;
      const id = optString(options, 'id');
      if (id !== undefined && /[\r\n\0]/.test(id)) throw invalidInput('option `id` must be a header value (no line breaks)');
      const method = optString(options, 'method');
      const url = optString(options, 'url');
      const b = bodyOf(body);
      let pairs;
      try {
        pairs = decode(core.sign(bodyBytes(b), timestamp, encode([id, method, url])));
      } catch (e) {
        throw fromCore(e);
      }
      const out = {};
      for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
      return out;
    }

    free() {
      const core = this.#core;
      this.#core = undefined;
      core?.free();
    }
  }
  if (typeof Symbol.dispose === 'symbol') Webhook.prototype[Symbol.dispose] = Webhook.prototype.free;

  return { Webhook, metaHandshake };
}

/**
 * Meta's subscription handshake: the challenge to answer with, when the mode is `subscribe` and
 * the token is the verify token (compared in constant time). The same rule as the core's
 * `meta_handshake` (which the Worker uses), with the same codes and messages: three comparisons,
 * done here rather than across the boundary, which saves the module 1.3 KB.
 */
function metaHandshake(query, verifyToken) {
  const params = typeof query === 'string' ? new URLSearchParams(query.replace(/^\?+/, '')) : query;
  if (params === null || typeof params !== 'object') {
    throw invalidInput('the query must be a URLSearchParams, a query string or a plain object');
  }
  if (typeof verifyToken !== 'string') throw invalidInput('the verify token must be a string');
  const field = (k) => {
    const v = typeof params.get === 'function' ? params.get(k) : params[k];
    return typeof v === 'string' ? v : undefined;
  };
  const refused = (why) => new HooksealError('handshake_rejected', `verification handshake refused: ${why}`);
  if (verifyToken === '') {
    throw new HooksealError('invalid_secret', 'invalid secret: the secret is empty, or decodes to no bytes');
  }
  if (field('hub.mode') !== 'subscribe') throw refused('hub.mode is not `subscribe`');
  const challenge = field('hub.challenge');
  if (!challenge) throw refused('hub.challenge is missing');
  if (!sameBytes(encoder.encode(field('hub.verify_token') ?? ''), encoder.encode(verifyToken))) {
    throw refused('hub.verify_token does not match');
  }
  return challenge;
}

/** Constant-time equality of two byte strings (only a length difference returns early). */
function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
