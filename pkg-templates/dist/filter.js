// Route filters: the core's filter engine (Hookdeck's JSON match, with `$regex` on a
// linear-time engine), the same one the Worker runs on its routes, so a filter can be tried in
// the user's own code and tests before it is deployed.

import { fromCore } from './abi.js';
import { HooksealError, invalidInput } from './errors.js';

const encoder = new TextEncoder();
const NO_EVENT = new Uint8Array(0);

/** A JS value as JSON text (a string is a JSON string, as `JSON.stringify` writes it). */
function jsonOf(value, what) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw invalidInput(`the ${what} cannot be serialized as JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (text === undefined) throw invalidInput(`the ${what} must be a JSON value (got ${typeof value})`);
  return text;
}

/** The event's JSON as UTF-8 bytes: bytes (a raw body) as given, a value serialized. */
function eventBytes(event) {
  if (event instanceof ArrayBuffer) return eventBytes(new Uint8Array(event));
  // No bytes at all would ask the core to check only the filter: a space is not JSON either.
  if (event instanceof Uint8Array) return event.length === 0 ? encoder.encode(' ') : event;
  return encoder.encode(jsonOf(event, 'event'));
}

export function bindFilter(glue) {
  /** One crossing: the filter and the event (none: only the filter is checked). */
  function test(filter, bytes) {
    try {
      return glue.filterMatches(filter, bytes);
    } catch (e) {
      const err = fromCore(e);
      // The core words a document that is not JSON as a webhook body; here it is the event.
      if (err instanceof HooksealError && (err.code === 'malformed_json' || err.code === 'invalid_utf8')) {
        throw new HooksealError(err.code, err.message.replace('the signature is valid but the body', 'the event'));
      }
      throw err;
    }
  }

  class Filter {
    #text;

    /**
     * Checks a filter once. Throws `invalid_filter`, naming the path and the problem, when it
     * is not a filter.
     */
    constructor(filter) {
      const text = jsonOf(filter, 'filter');
      test(text, NO_EVENT);
      this.#text = text;
    }

    /** Whether `event` (a JS value, or a raw JSON body as bytes) matches. */
    matches(event) {
      return test(this.#text, eventBytes(event));
    }
  }

  /** Whether `event` matches `filter`. */
  function matches(filter, event) {
    return test(jsonOf(filter, 'filter'), eventBytes(event));
  }

  return { Filter, matches };
}
