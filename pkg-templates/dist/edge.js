// Next.js Edge runtime and other `edge-light` hosts: `?module` imports the .wasm compiled.
import wasm from './hookseal_bg.wasm?module';
import * as glue from './hookseal.js';
import { HooksealError } from './helpers.js';
import { sameRealm } from './module.js';

glue.initSync({ module: sameRealm(wasm) });
glue.__registerErrorClass(HooksealError);

export const { Webhook, metaHandshake } = glue;
export * from './helpers.js';
