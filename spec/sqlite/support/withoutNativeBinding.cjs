// Preloaded with `node --require`: loading better-sqlite3's native addon fails, as it does when
// the addon was built for another Node.js or never built at all. The `.node` file itself is
// hidden, not a loader module: better-sqlite3 12 finds it through `bindings`, 13 requires it
// directly (its own build, else the prebuilt binary it ships).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a --require preload is CommonJS
const Module = require('node:module');

const load = Module._load;
Module._load = function loadWithoutBinding(request, ...rest) {
  if (/[\\/]better-sqlite3[\\/].*\.node$/.test(request)) {
    throw new Error(`${request} could not be loaded (hidden by withoutNativeBinding.cjs)`);
  }
  return load.call(this, request, ...rest);
};
