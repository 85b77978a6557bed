// Loaded by Node's own CommonJS loader (tslab only type-checks esm.d.cts and
// require()s this file at run time), so this import() is a real dynamic import:
// ESM packages with top-level await (vega, vega-lite 6) cannot be require()d.
exports.importESM = (specifier) => import(specifier);
