// A Fastify plugin (`hookseal/fastify`): in the scope where it is registered, bodies are kept as
// raw bytes (every content type, up to the webhook's limit) and each request is verified and
// parsed before its handler, which finds `{ verified, events, body }` on `request.hookseal`.
// Register it in a scope of its own (`app.register(async (hooks) => { … })`): the rest of the
// app keeps its JSON parser. Refusals are answered as `middleware` answers them.
import { HooksealError, requestUrl, statusFor } from './api.js';

export function hookseal(fastify, options, done) {
  const { webhook } = options;
  if (!webhook || typeof webhook.parse !== 'function') {
    done(new HooksealError('invalid_input', 'hookseal/fastify: pass { webhook: new Webhook(...) }'));
    return;
  }
  const bodyLimit = options.limit ?? webhook.maxBodyBytes;
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (request, body, next) => next(null, body));
  if (!fastify.hasRequestDecorator('hookseal')) fastify.decorateRequest('hookseal', null);
  fastify.addHook('preHandler', async (request, reply) => {
    const body = request.body instanceof Uint8Array ? request.body : new Uint8Array(0);
    try {
      const url = requestUrl(request.raw, options);
      request.hookseal = { ...webhook.parse(body, request.headers, { method: request.method, url, now: options.now }), body };
    } catch (error) {
      if (!(error instanceof HooksealError)) throw error;
      if (options.onError) options.onError(error, request);
      return reply.code(statusFor(error)).send({ error: error.code, message: error.message });
    }
  });
  done();
}

// Applies to the scope it is registered in (as fastify-plugin would), not a child of it.
hookseal[Symbol.for('skip-override')] = true;
hookseal[Symbol.for('fastify.display-name')] = 'hookseal';
