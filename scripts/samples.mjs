#!/usr/bin/env node
// Writes the CLI's sample events (build/pkg/dist/samples.json): one body per scheme and event
// type, taken from the fixtures in tests/events (the providers' own documented examples first).
// Usage: node scripts/samples.mjs OUT
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../tests/events/', import.meta.url);
const { cases } = JSON.parse(readFileSync(new URL('cases.json', root), 'utf8'));
const samples = {};
for (const c of cases) {
  if (typeof c.scheme !== 'string' || c.retryOf || c.name.includes('adversarial')) continue;
  const type = c.events[0]?.type;
  if (!type || type === 'hookseal.unparsed') continue;
  const perScheme = (samples[c.scheme] ??= {});
  perScheme[type] ??= {
    body: readFileSync(new URL(c.file, root), 'utf8'),
    ...(c.headers?.length ? { headers: Object.fromEntries(c.headers) } : {}),
  };
}
writeFileSync(process.argv[2], `${JSON.stringify(samples)}\n`);
