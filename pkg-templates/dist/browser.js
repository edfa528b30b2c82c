// Browsers, Deno and bundlers: compile the .wasm asynchronously once at import (top-level
// await), so every call after that is synchronous.
import * as glue from './hookseal.js';
import { bind } from './api.js';

await glue.default({ module_or_path: new URL('./hookseal_bg.wasm', import.meta.url) });

export const { Webhook, metaHandshake, Filter, matches } = bind(glue);
export {
  HooksealError, statusFor, verifyRequest, readBody, middleware, requestUrl, DEFAULT_LIMIT,
} from './api.js';
