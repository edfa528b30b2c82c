/**
 * A route filter: the JSON a Worker route's `filter` holds (Hookdeck's JSON match; where it
 * differs, `tests/filters/cases.json` lists hookseal's rule).
 *
 * - A string, number, boolean or `null` matches an equal value (numbers by value, no
 *   conversion between types: `"1"` is not `1`), or an array containing one.
 * - An array matches an array that contains a match for each of its items.
 * - An object matches an object whose fields match its fields (fields it does not name are
 *   ignored); a missing field matches only `{ "$exist": false }`.
 * - Operators: `$eq`, `$neq`, `$gt`, `$gte`, `$lt`, `$lte` (numbers, or strings by code
 *   point), `$in`, `$nin`, `$startsWith`, `$endsWith`, `$exist`, `$regex` (the common
 *   JS/Go/Rust syntax, matched in linear time: no look-around or back-references), `$and`,
 *   `$or`, `$not`.
 */
export type FilterSpec =
  | null | boolean | number | string | FilterSpec[] | { [key: string]: FilterSpec };

/**
 * A filter, checked once, to test many events. The event is what `parse` returns (a
 * `HooksealEvent`) or any JSON value (a string is a JSON string), or a raw JSON body as bytes
 * (`Uint8Array`, `ArrayBuffer`). The Worker matches the same event with `source` and
 * `receivedAt` (milliseconds) added. A filter read from a file: `new Filter(JSON.parse(text))`.
 */
export declare class Filter {
  /**
   * Checks `filter`. Throws a `HooksealError` with code
   * `invalid_filter` naming the path and the problem (`data.kind.$equals: unknown operator`)
   * when it is not a filter.
   */
  constructor(filter: FilterSpec);
  /**
   * Whether `event` matches. Throws `malformed_json` or `invalid_utf8` for bytes that are not
   * JSON, `invalid_input` for a value `JSON.stringify` cannot write.
   */
  matches(event: unknown): boolean;
}

/** Whether `event` matches `filter` (`invalid_filter` when the filter is not one). */
export declare function matches(filter: FilterSpec, event: unknown): boolean;
