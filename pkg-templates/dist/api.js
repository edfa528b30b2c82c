// The package's JS API, gathered for the entry files (browser.js, edge.js, workerd.js,
// index.cjs): each loads the .wasm its own way, then calls `bind` once.
//
//   webhook.js  the `Webhook` class and Meta's handshake, over the wasm core
//   abi.js      the wire format to and from the wasm module
//   errors.js   `HooksealError` and `statusFor`
//   http.js     `verifyRequest`, `readBody`, `requestUrl`, `middleware`

export { bind } from './webhook.js';
export { HooksealError, statusFor } from './errors.js';
export { DEFAULT_LIMIT, middleware, readBody, requestUrl, verifyRequest } from './http.js';
