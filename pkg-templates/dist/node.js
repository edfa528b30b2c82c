// Node `import` entry: the same instance as `require`, so an app that mixes both has one
// hookseal (no dual-package hazard).
import cjs from './index.cjs';

export const {
  Webhook, metaHandshake, Filter, matches, HooksealError, statusFor, verifyRequest, readBody, middleware, requestUrl,
  DEFAULT_LIMIT,
} = cjs;
