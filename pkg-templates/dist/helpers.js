// Small helpers around the wasm API: the error class, HTTP statuses, a Fetch `Request` helper,
// and a Node/Express helper that gets the raw body right. Written once as ESM; the CommonJS
// copy (../helpers.cjs) is compiled from this file at build time.

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
