// Deno: the package's `deno` condition, the `web` glue, the .wasm compiled from its file URL.
import { HooksealError, Webhook } from "hookseal";

const fixture = JSON.parse(await Deno.readTextFile(new URL("./fixture.json", import.meta.url)));
const wh = new Webhook("moltflow", fixture.secret);
const out: Record<string, unknown> = {
  deno: Deno.version.deno,
  events: wh.parse(fixture.body, fixture.headers).events.map((e) => e.type),
};
try {
  wh.verify(fixture.forged, fixture.headers);
  out.forged = "accepted";
} catch (e) {
  out.forged = e instanceof HooksealError ? e.code : String(e);
}
console.log(JSON.stringify(out));
