// The HTTP helpers: a Fetch `Request` helper (`verifyRequest`), and for Node and Express the raw
// body (`readBody`), the URL a sender signed (`requestUrl`) and a middleware. Each reads the body
// once, within a limit, and hands it to a `Webhook`.

import { HooksealError, invalidInput, statusFor, tooLarge } from './errors.js';

/**
 * The default body limit of `readBody`: 4 MiB, above Meta's documented 3 MB. `verifyRequest` and
 * `middleware` default to their webhook's `maxBodyBytes` instead (25 MiB for GitHub).
 */
export const DEFAULT_LIMIT = 4 * 1024 * 1024;

const encoder = new TextEncoder();

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
