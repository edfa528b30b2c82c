// Hono middleware (`hookseal/hono`): verifies and parses the raw body, then puts
// `{ verified, events, body }` on the context as `c.get('hookseal')`. Refusals are answered as
// `middleware` answers them. No dependency on Hono: it works with any version that passes a
// context with `req.raw`, `set` and `json`, on Workers, Node (@hono/node-server), Deno and Bun.
import { HooksealError, statusFor, verifyRequest } from './api.js';

export function hookseal(webhook, options = {}) {
  return async function hooksealMiddleware(c, next) {
    let result;
    try {
      result = await verifyRequest(webhook, c.req.raw, options);
    } catch (error) {
      if (!(error instanceof HooksealError)) throw error;
      if (options.onError) options.onError(error, c);
      const res = c.json({ error: error.code, message: error.message }, statusFor(error));
      if (error.code === 'body_too_large') res.headers.set('connection', 'close');
      return res;
    }
    c.set('hookseal', result);
    await next();
  };
}
