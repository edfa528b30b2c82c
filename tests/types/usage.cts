// The same package through `require` (the CommonJS declarations).
import hookseal = require('hookseal');

const wh = new hookseal.Webhook('moltflow', 'secret');
const v: hookseal.Verified = wh.verify('{}', { 'x-webhook-hmac': 'ab' });
export const n: number = v.secretIndex;
export const code: hookseal.HooksealErrorCode = 'signature_mismatch';

// The framework helpers from CommonJS.
import fastify = require('hookseal/fastify');
import hono = require('hookseal/hono');
void fastify.hookseal; void hono.hookseal;

// Route filters from CommonJS.
const cjsFilter = new hookseal.Filter({ status: { $in: ['failed', 'undelivered'] } });
const matched: boolean = cjsFilter.matches({ status: 'failed' }) || hookseal.matches({ a: 1 }, { a: 1 });
void matched;
