// Cloudflare Workers (workerd): the .wasm arrives as an imported, already compiled module; code
// generation from bytes is not allowed at run time.
import wasm from './hookseal_bg.wasm';
import * as glue from './hookseal.js';
import { bind } from './api.js';
import { sameRealm } from './module.js';

glue.initSync({ module: sameRealm(wasm) });

export const { Webhook, metaHandshake, Filter, matches } = bind(glue);
export {
  HooksealError, statusFor, verifyRequest, readBody, middleware, requestUrl, DEFAULT_LIMIT,
} from './api.js';
