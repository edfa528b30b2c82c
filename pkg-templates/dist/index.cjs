'use strict';
// Node `require` entry. The wasm-bindgen `nodejs` glue (hookseal.cjs) loads hookseal_bg.wasm
// from this directory synchronously.
const glue = require('./hookseal.cjs');
const helpers = require('./api.cjs');

const api = helpers.bind(glue);

exports.Webhook = api.Webhook;
exports.metaHandshake = api.metaHandshake;
exports.Filter = api.Filter;
exports.matches = api.matches;
exports.HooksealError = helpers.HooksealError;
exports.statusFor = helpers.statusFor;
exports.verifyRequest = helpers.verifyRequest;
exports.readBody = helpers.readBody;
exports.middleware = helpers.middleware;
exports.requestUrl = helpers.requestUrl;
exports.DEFAULT_LIMIT = helpers.DEFAULT_LIMIT;
