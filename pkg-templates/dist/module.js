// Some hosts hand over the imported .wasm as a WebAssembly.Module from another realm: Next.js
// runs Edge route code in a separate VM context while building, so the module is not
// `instanceof` this realm's WebAssembly.Module, which the wasm-bindgen glue checks before
// instantiating (and would otherwise try to compile it as bytes). WebAssembly.Instance checks
// the module's internal slot, not its prototype, so giving the foreign module this realm's
// prototype is all it takes.
export function sameRealm(module) {
  if (!(module instanceof WebAssembly.Module)
      && Object.prototype.toString.call(module) === '[object WebAssembly.Module]') {
    Object.setPrototypeOf(module, WebAssembly.Module.prototype);
  }
  return module;
}
