// The package's JS API, gathered for the entry files (browser.js, edge.js, workerd.js,
// index.cjs): each loads the .wasm its own way, then calls `bind` once.
//
//   webhook.js  the `Webhook` class and Meta's handshake, over the wasm core
//   filter.js   `Filter` and `matches`: the Worker's route filters, over the wasm core
//   abi.js      the wire format to and from the wasm module
//   errors.js   `HooksealError` and `statusFor`
//   http.js     `verifyRequest`, `readBody`, `requestUrl`, `middleware`

import { bind as bindWebhook } from './webhook.js';
import { bindFilter } from './filter.js';

/** The API over one loaded wasm module: `Webhook`, `metaHandshake`, `Filter` and `matches`. */
export function bind(glue) {
  return { ...bindWebhook(glue), ...bindFilter(glue) };
}

export { HooksealError, statusFor } from './errors.js';
export { DEFAULT_LIMIT, middleware, readBody, requestUrl, verifyRequest } from './http.js';
