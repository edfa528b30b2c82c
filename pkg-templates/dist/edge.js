// Next.js Edge runtime and other `edge-light` hosts: `?module` imports the .wasm compiled.
import wasm from './hookseal_bg.wasm?module';
import * as glue from './hookseal.js';
import { bind } from './api.js';
import { sameRealm } from './module.js';

glue.initSync({ module: sameRealm(wasm) });

export const { Webhook, metaHandshake, Filter, matches } = bind(glue);
export {
  HooksealError, statusFor, verifyRequest, readBody, middleware, requestUrl, DEFAULT_LIMIT,
} from './api.js';
