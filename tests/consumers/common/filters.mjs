// The core's filter vectors (tests/filters/cases.json, in fixture.json as `filters`) through the
// package's `matches`, as a consumer project imports it: the names of the cases that disagree.
export function filterFailures(matches, vectors) {
  const failed = [];
  for (const c of vectors.cases) {
    let got;
    try {
      got = matches(c.filter, c.eventJson === undefined ? c.event : new TextEncoder().encode(c.eventJson));
    } catch (e) {
      got = e.code;
    }
    if (got !== c.matches) failed.push(`${c.name}: ${got}`);
  }
  for (const c of vectors.errors) {
    try {
      matches(c.filter, {});
      failed.push(`${c.name}: accepted`);
    } catch (e) {
      if (e.code !== 'invalid_filter' || !e.message.includes(c.error)) failed.push(`${c.name}: ${e.code} ${e.message}`);
    }
  }
  return failed;
}
