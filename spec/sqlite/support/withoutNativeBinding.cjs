// Preloaded with `node --require`: loading better-sqlite3's native addon fails, as it does when
// the addon was built for another Node.js or never built at all.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a --require preload is CommonJS
const Module = require('node:module');

const load = Module._load;
Module._load = function loadWithoutBinding(request, ...rest) {
  if (request === 'bindings') {
    return () => {
      throw new Error('Could not locate the bindings file (hidden by withoutNativeBinding.cjs)');
    };
  }
  return load.call(this, request, ...rest);
};
