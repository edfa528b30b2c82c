/** @type {import('next').NextConfig} */
export default {
  // hookseal loads its .wasm from its own directory on the Node runtime: keep it out of the bundle.
  serverExternalPackages: ['hookseal'],
  // This test app lives inside the hookseal repository; its root is here, not the repo's.
  turbopack: { root: import.meta.dirname },
  outputFileTracingRoot: import.meta.dirname,
};
