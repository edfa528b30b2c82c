// The package's JS: the `Webhook` class over the wasm core, the error class, HTTP statuses, a
// Fetch `Request` helper, and a Node/Express helper that gets the raw body right. Written once as
// ESM; the CommonJS copy (../helpers.cjs) is compiled from this file at build time.
//
// The class reads the caller's JS values here (bodies in their several forms, header maps,
// options), where reading them is cheap, and calls the core once with bytes, strings and numbers.

const DEFAULT_LIMIT = 1024 * 1024;

/** The error hookseal throws: an `Error` with a stable `code` to switch on. */
export class HooksealError extends Error {
  constructor(code, message, signatureVerified = false) {
    super(message);
    this.name = 'HooksealError';
    this.code = code;
    this.signatureVerified = signatureVerified;
  }

  /** `instanceof` holds across copies of the package (CommonJS and ESM, bundles). */
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === 'HooksealError' && typeof value.code === 'string';
  }
}

const BODY_ERROR = 'the body must be a Uint8Array, Buffer, ArrayBuffer, typed array or string: ' +
  'pass the raw body as received, before any JSON parsing';
const HEADERS_ERROR = 'headers must be a Fetch Headers, a Map or a plain object';
const toString = Object.prototype.toString;
const encoder = new TextEncoder();

function invalidInput(message) {
  return new HooksealError('invalid_input', message);
}

/** The core's errors cross as `code \n signatureVerified \n message`. */
function fromCore(e) {
  if (typeof e !== 'string') return e;
  const a = e.indexOf('\n');
  const b = e.indexOf('\n', a + 1);
  return new HooksealError(e.slice(0, a), e.slice(b + 1), e.slice(a + 1, b) === '1');
}

/** The body as bytes (a view, never a copy) or as text. */
function bodyOf(body) {
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const tag = toString.call(body);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return new Uint8Array(body);
  throw invalidInput(BODY_ERROR);
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

/** Optional single-line values as the core takes them: one line each, and a bit per value given. */
function lines(values) {
  let text = '';
  let present = 0;
  for (let i = 0; i < values.length; i++) {
    if (i !== 0) text += '\n';
    if (values[i] !== undefined) {
      text += values[i];
      present |= 1 << i;
    }
  }
  return [text, present];
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

/**
 * The API over one instance of the wasm glue (`Core`, `metaHandshake`): each package entry
 * loads the .wasm its own way, then calls this once. Internal.
 */
export function bind(glue) {
  class Webhook {
    #core;
    #lower;
    #exact;
    #usesTimestamp;
    #scheme;
    #plain = [];

    constructor(scheme, secrets, options) {
      let name = '';
      let generic;
      if (typeof scheme === 'string') {
        name = scheme;
      } else if (scheme !== null && typeof scheme === 'object' && Object.keys(scheme).length === 1
          && scheme.generic !== null && typeof scheme.generic === 'object') {
        generic = json(scheme.generic);
      } else {
        throw invalidInput('the scheme must be a name or { generic: { ... } }');
      }
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
      const tolerance = t === undefined || t === true ? undefined : json(t);
      // Each secret as `<length>:<secret>` in one string (the length as JS counts it).
      const secretsText = list.map((s) => `${s.length}:${s}`).join('');
      try {
        this.#core = new glue.Core(name, generic, secretsText, tolerance);
      } catch (e) {
        throw fromCore(e);
      }
      this.#exact = this.#core.names().split('\n');
      this.#lower = this.#exact.map(asciiLower);
      this.#usesTimestamp = this.#core.usesTimestamp();
      this.#scheme = this.#core.scheme();
    }

    get scheme() {
      return this.#scheme;
    }

    verify(body, headers, options) {
      const r = this.#call(false, body, headers, options);
      const index = r & 255;
      const slot = r >>> 8;
      if (slot === 0 && !this.#usesTimestamp) {
        // No id and no timestamp: one frozen result per secret index, made once.
        return this.#plain[index] ?? (this.#plain[index] = Object.freeze({ secretIndex: index }));
      }
      const out = { secretIndex: index };
      if (slot !== 0) out.id = this.#got[slot - 1];
      if (this.#usesTimestamp) {
        const t = this.#core.timestamp();
        if (t === t) out.timestamp = t; // not NaN
      }
      return Object.freeze(out);
    }

    parse(body, headers, options) {
      return JSON.parse(this.#call(true, body, headers, options));
    }

    /** The header values of the last call (for the id). */
    #got;

    #call(parse, body, headers, options) {
      const b = bodyOf(body);
      const got = readHeaders(headers, this.#lower, this.#exact);
      this.#got = got;
      const now = optNumber(options, 'now') ?? (this.#usesTimestamp ? Date.now() / 1000 : 0);
      const method = optString(options, 'method');
      const url = optString(options, 'url');
      const given = method !== undefined && url !== undefined;
      if (given && /[\r\n]/.test(method + url)) throw invalidInput('options `method` and `url` must be a single line');
      // The request line (given for schemes that sign it) follows the header values.
      got.push(given ? method : undefined, given ? url : undefined);
      const [values, present] = lines(got);
      const core = this.#core;
      try {
        if (typeof b === 'string') {
          return parse ? core.parseText(b, values, present, now) : core.verifyText(b, values, present, now);
        }
        return parse ? core.parse(b, values, present, now) : core.verify(b, values, present, now);
      } catch (e) {
        throw fromCore(e);
      }
    }

    sign(body, options) {
      const b = bodyOf(body);
      const timestamp = optNumber(options, 'timestamp') ?? Date.now() / 1000;
      const id = optString(options, 'id');
      if (id !== undefined && /[\r\n\0]/.test(id)) throw invalidInput('option `id` must be a header value (no line breaks)');
      const method = optString(options, 'method');
      const url = optString(options, 'url');
      const [text, present] = lines([id, method, url]);
      let pairs;
      try {
        pairs = this.#core.sign(typeof b === 'string' ? encoder.encode(b) : b, timestamp, text, present).split('\n');
      } catch (e) {
        throw fromCore(e);
      }
      const out = {};
      for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
      return out;
    }

    free() {
      this.#core.free();
    }
  }
  if (typeof Symbol.dispose === 'symbol') Webhook.prototype[Symbol.dispose] = Webhook.prototype.free;

  function metaHandshake(query, verifyToken) {
    const params = typeof query === 'string' ? new URLSearchParams(query.replace(/^\?+/, '')) : query;
    if (params === null || typeof params !== 'object') {
      throw invalidInput('the query must be a URLSearchParams, a query string or a plain object');
    }
    if (typeof verifyToken !== 'string') throw invalidInput('the verify token must be a string');
    // A field with a line break is not one Meta sent: it counts as absent.
    const field = (k) => {
      const v = typeof params.get === 'function' ? params.get(k) : params[k];
      return typeof v === 'string' && !v.includes('\n') ? v : undefined;
    };
    const [text, present] = lines([field('hub.mode'), field('hub.verify_token'), field('hub.challenge')]);
    try {
      return glue.metaHandshake(text, present, verifyToken);
    } catch (e) {
      throw fromCore(e);
    }
  }

  return { Webhook, metaHandshake };
}

const REJECTIONS = new Set([
  'missing_header', 'malformed_signature', 'signature_mismatch', 'algorithm_mismatch',
  'malformed_timestamp', 'timestamp_too_old', 'timestamp_in_future', 'handshake_rejected',
]);

/**
 * The HTTP status to answer a failed webhook with: 401 when it is not authentic or not fresh,
 * 413 when too large, 400 for a body that verified but is not the documented event (or bad
 * input), 500 for the receiver's own configuration problems.
 */
export function statusFor(error) {
  const code = error && error.code;
  if (REJECTIONS.has(code)) return 401;
  if (code === 'body_too_large') return 413;
  if ((error && error.signatureVerified) || code === 'invalid_input' || code === 'body_already_parsed') {
    return 400;
  }
  return 500;
}

/**
 * Reads a Fetch `Request` (Next.js App Router, Workers, Deno, Bun) once, verifies and parses it.
 * Returns `{ verified, events, body }`; throws `HooksealError`.
 */
export async function verifyRequest(webhook, request, options = {}) {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const declared = Number(request.headers.get('content-length'));
  if (declared > limit) throw tooLarge(limit);
  const body = new Uint8Array(await request.arrayBuffer());
  if (body.byteLength > limit) throw tooLarge(limit);
  const delivery = webhook.parse(body, request.headers, {
    method: request.method,
    url: request.url,
    now: options.now,
  });
  return { ...delivery, body };
}

function tooLarge(limit) {
  return new HooksealError('body_too_large', `the body is larger than the ${limit}-byte limit`);
}

/**
 * The raw body of a Node `IncomingMessage` (plain `http`, Express, Fastify's raw request),
 * read from the stream, or taken from `req.body` when `express.raw()` already read it. Refuses a
 * body a JSON parser already consumed: the bytes the sender signed are gone by then.
 */
export function readBody(req, options = {}) {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const body = req.body;
  if (body instanceof Uint8Array) {
    return body.byteLength > limit ? Promise.reject(tooLarge(limit)) : Promise.resolve(body);
  }
  if (typeof body === 'string') {
    // express.text(): the text as sent, for the UTF-8 bodies webhooks use.
    const bytes = new TextEncoder().encode(body);
    return bytes.byteLength > limit ? Promise.reject(tooLarge(limit)) : Promise.resolve(bytes);
  }
  // Express leaves `{}` when a parser skipped the request (other content type); the stream is
  // then still unread. Anything else there means a parser consumed the signed bytes.
  const untouched = body === undefined || (isEmptyObject(body) && !req.readableEnded);
  if (!untouched || req.readableEnded) {
    return Promise.reject(new HooksealError(
      'body_already_parsed',
      'the request body was already parsed (express.json()?), so the signed bytes are gone: ' +
        "mount hookseal's middleware before any body parser, or use express.raw({ type: '*/*' }) on this route",
    ));
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const out = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      resolve(out);
    });
    req.on('error', reject);
  });
}

function isEmptyObject(value) {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

function fullUrl(req) {
  if (/^https?:\/\//.test(req.originalUrl || req.url)) return req.originalUrl || req.url;
  const proto = req.headers['x-forwarded-proto'] || (req.socket && req.socket.encrypted ? 'https' : 'http');
  const host = req.headers['x-forwarded-host'] || req.headers.host;
  return `${String(proto).split(',')[0]}://${host}${req.originalUrl || req.url}`;
}

/**
 * Express (or plain `http`) middleware: reads the raw body, verifies and parses it, and puts
 * `{ verified, events, body }` on `req.hookseal`; on failure answers with the status from
 * `statusFor` and `{ "error": code, "message": … }`, and does not call `next`.
 */
export function middleware(webhook, options = {}) {
  return function hookseal(req, res, next) {
    readBody(req, options)
      .then((body) => {
        req.hookseal = {
          ...webhook.parse(body, req.headers, { method: req.method, url: fullUrl(req), now: options.now }),
          body,
        };
      })
      .then(() => next(), (error) => {
        if (!(error instanceof HooksealError)) return next(error);
        if (options.onError) options.onError(error, req);
        res.statusCode = statusFor(error);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: error.code, message: error.message }));
      });
  };
}
