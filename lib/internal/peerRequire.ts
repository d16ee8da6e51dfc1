/**
 * `require` for optional peer dependencies, resolved from this file. The CommonJS build uses
 * the module's own `require`; scripts/build.mjs replaces this file in the ES module build with
 * `createRequire(import.meta.url)`, so both builds load a peer synchronously and can say what to
 * install when it is missing.
 */
export const peerRequire: (id: string) => unknown = require;
