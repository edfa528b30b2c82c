// The package's JS: the `Webhook` class over the wasm core, the error class, HTTP statuses, a
// Fetch `Request` helper, and a Node/Express helper that gets the raw body right. Written once as
// ESM; the CommonJS copy (../helpers.cjs) is compiled from this file at build time.
//
// The class reads the caller's JS values here (bodies in their several forms, header maps,
// options), where reading them is cheap, and calls the core once with bytes, strings and numbers.

/**
 * The default body limit of `readBody`: 4 MiB, above Meta's documented 3 MB. `verifyRequest` and
 * `middleware` default to their webhook's `maxBodyBytes` instead (25 MiB for GitHub).
 */
export const DEFAULT_LIMIT = 4 * 1024 * 1024;

/**
 * The largest body hookseal hands to its wasm core at all: past this the module's memory could
 * not hold it and the instance would trap. A string counts three bytes a character (its UTF-8
 * worst case).
 */
const MAX_WASM_BODY = 512 * 1024 * 1024;

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
const DETACHED_ERROR = 'the body\'s ArrayBuffer is detached (transferred or consumed): pass the bytes before transferring them';
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

/** The body as bytes (a view, never a copy) or as text, refused when it cannot reach the core. */
function bodyOf(body) {
  let b;
  if (typeof body === 'string' || body instanceof Uint8Array) {
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
  if (typeof b === 'string') {
    if (b.length * 3 > MAX_WASM_BODY) throw tooLarge(MAX_WASM_BODY);
  } else {
    if (isDetached(b.buffer)) throw invalidInput(DETACHED_ERROR);
    if (b.byteLength > MAX_WASM_BODY) throw tooLarge(MAX_WASM_BODY);
  }
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

const VERIFY = 0;
const VERIFY_DETAILED = 1;
const PARSE = 2;

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
    #detailed;
    #scheme;
    #maxBodyBytes;
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
      const tolerance = t === undefined || t === true ? undefined : toleranceOf(t);
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
      this.#detailed = this.#core.detailed();
      this.#scheme = this.#core.scheme();
      this.#maxBodyBytes = this.#core.maxBodyBytes();
    }

    get scheme() {
      return this.#scheme;
    }

    get maxBodyBytes() {
      return this.#maxBodyBytes;
    }

    verify(body, headers, options) {
      if (!this.#detailed) {
        // No id and no timestamp: one frozen result per secret index, made once.
        const index = this.#call(VERIFY, body, headers, options);
        return this.#plain[index] ?? (this.#plain[index] = Object.freeze({ secretIndex: index }));
      }
      // `secretIndex \n timestamp \n id`, everything verification established, from one call.
      const r = this.#call(VERIFY_DETAILED, body, headers, options);
      const a = r.indexOf('\n');
      const b = r.indexOf('\n', a + 1);
      const out = { secretIndex: Number(r.slice(0, a)) };
      if (b > a + 1) out.timestamp = Number(r.slice(a + 1, b));
      if (b + 1 < r.length) out.id = r.slice(b + 1);
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
      const given = method !== undefined && url !== undefined;
      if (given && /[\r\n]/.test(method + url)) throw invalidInput('options `method` and `url` must be a single line');
      // The request line (given for schemes that sign it) follows the header values.
      got.push(given ? method : undefined, given ? url : undefined);
      const [values, present] = lines(got);
      const text = typeof b === 'string';
      try {
        switch (kind) {
          case VERIFY:
            return text ? core.verifyText(b, values, present, now) : core.verify(b, values, present, now);
          case VERIFY_DETAILED:
            return text
              ? core.verifyDetailedText(b, values, present, now)
              : core.verifyDetailed(b, values, present, now);
          default:
            return text ? core.parseText(b, values, present, now) : core.parse(b, values, present, now);
        }
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
      const [text, present] = lines([id, method, url]);
      let pairs;
      try {
        pairs = core.sign(typeof b === 'string' ? encoder.encode(b) : b, timestamp, text, present).split('\n');
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
 * The body is read from its stream and reading stops at `limit`: a larger body is never held in
 * memory. The URL a scheme signs is `request.url`, or its path under `publicUrl`'s origin.
 * Returns `{ verified, events, body }`; throws `HooksealError`.
 */
export async function verifyRequest(webhook, request, options = {}) {
  const limit = limitOf(options, webhook);
  const declared = Number(request.headers.get('content-length'));
  if (declared > limit) {
    await discard(request.body);
    throw tooLarge(limit);
  }
  const body = await readStream(request.body, limit);
  const delivery = webhook.parse(body, request.headers, {
    method: request.method,
    url: options.publicUrl === undefined ? request.url : withOrigin(request.url, options.publicUrl),
    now: options.now,
  });
  return { ...delivery, body };
}

/** `url` with the origin of `publicUrl` (the address the provider was given). */
function withOrigin(url, publicUrl) {
  if (typeof publicUrl !== 'string') throw invalidInput('option `publicUrl` must be a string');
  const u = new URL(url);
  return new URL(publicUrl).origin + u.pathname + u.search;
}

function limitOf(options, webhook) {
  const limit = options.limit ?? webhook?.maxBodyBytes ?? DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !(limit >= 0)) throw invalidInput('option `limit` must be a number of bytes');
  return limit;
}

/** A Fetch body stream's bytes, up to `limit`; past it the stream is cancelled, and `body_too_large`. */
async function readStream(stream, limit) {
  if (stream === null || stream === undefined) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

function discard(stream) {
  return stream ? stream.cancel().catch(() => {}) : undefined;
}

function concat(chunks, size) {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function tooLarge(limit) {
  return new HooksealError('body_too_large', `the body is larger than the ${limit}-byte limit`);
}

/**
 * The raw body of a Node `IncomingMessage` (plain `http`, Express, Fastify's raw request),
 * read from the stream, or taken from `req.body` when `express.raw()` already read it. Refuses a
 * body a JSON parser already consumed: the bytes the sender signed are gone by then. Past
 * `limit` nothing more is kept: the rest of the stream is drained and discarded, and the promise
 * rejects with `body_too_large`.
 */
export function readBody(req, options = {}) {
  let limit;
  try {
    limit = limitOf(options);
  } catch (e) {
    return Promise.reject(e);
  }
  const body = req.body;
  if (body instanceof Uint8Array) {
    return body.byteLength > limit ? Promise.reject(tooLarge(limit)) : Promise.resolve(body);
  }
  if (typeof body === 'string') {
    // express.text(): the text as sent, for the UTF-8 bodies webhooks use.
    const bytes = encoder.encode(body);
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
    const onData = (chunk) => {
      size += chunk.length;
      if (size > limit) {
        // Only our own listeners go; the stream keeps flowing into nothing, so the sender can
        // finish writing and read the 413.
        cleanup();
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(concat(chunks, size));
    };
    const onError = (e) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function isEmptyObject(value) {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

function first(v) {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' ? s.split(',')[0].trim() : undefined;
}

/**
 * The URL the sender posted to, for schemes that sign it (HubSpot). The path and query are the
 * request's own; an absolute-form request target (`POST http://host/path`) contributes only its
 * path. The origin is, in order: `options.publicUrl` (the address the provider was given, such
 * as `https://hooks.example.com`); with `trustProxy: true`, the `X-Forwarded-Proto` and
 * `X-Forwarded-Host` a proxy in front of the app set; otherwise the `Host` header and whether the
 * socket is TLS. Forwarding headers are never read unless trusted: anyone can send them, and
 * they would rebind a signature made for one host to another.
 */
export function requestUrl(req, options = {}) {
  let path = req.originalUrl || req.url || '/';
  if (!path.startsWith('/')) {
    try {
      const u = new URL(path);
      path = u.pathname + u.search;
    } catch {
      path = '/';
    }
  }
  if (options.publicUrl !== undefined) return withOrigin(`http://localhost${path}`, options.publicUrl);
  const h = req.headers || {};
  const trusted = options.trustProxy === true;
  const proto = (trusted && first(h['x-forwarded-proto'])) || (req.socket && req.socket.encrypted ? 'https' : 'http');
  const host = (trusted && first(h['x-forwarded-host'])) || first(h.host) || 'localhost';
  return `${proto}://${host}${path}`;
}

/**
 * Express (or plain `http`) middleware: reads the raw body, verifies and parses it, and puts
 * `{ verified, events, body }` on `req.hookseal`; on failure answers with the status from
 * `statusFor` and `{ "error": code, "message": … }`, and does not call `next`. A `413` also
 * asks the client to close the connection (`Connection: close`), since the rest of its body was
 * never read.
 */
export function middleware(webhook, options = {}) {
  const read = { limit: limitOf(options, webhook) };
  return function hookseal(req, res, next) {
    readBody(req, read)
      .then((body) => {
        req.hookseal = {
          ...webhook.parse(body, req.headers, {
            method: req.method, url: requestUrl(req, options), now: options.now,
          }),
          body,
        };
      })
      .then(() => next(), (error) => {
        if (!(error instanceof HooksealError)) return next(error);
        if (options.onError) options.onError(error, req);
        res.statusCode = statusFor(error);
        res.setHeader('content-type', 'application/json');
        if (res.statusCode === 413) res.setHeader('connection', 'close');
        res.end(JSON.stringify({ error: error.code, message: error.message }));
      });
  };
}
