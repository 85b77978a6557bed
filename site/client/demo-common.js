// Shared by the live demos: start TensorFlow.js once (wasm from this site, cpu as fallback).
(function () {
  'use strict';
  var ready = null;
  window.courseTf = function () {
    if (ready) return ready;
    var tf = window.tf;
    if (!tf) return Promise.reject(new Error('TensorFlow.js did not load'));
    var rootPath = document.documentElement.dataset.root || './';
    var base = new URL(rootPath + 'assets/vendor/', location.href).href;
    ready = (async function () {
      try {
        if (tf.wasm && tf.wasm.setWasmPaths) {
          tf.wasm.setWasmPaths(base);
          if (await tf.setBackend('wasm')) { await tf.ready(); return tf; }
        }
      } catch (e) { console.warn('wasm backend unavailable, using cpu:', e && e.message); }
      await tf.setBackend('cpu');
      await tf.ready();
      return tf;
    })();
    return ready;
  };
  window.courseBars = function (rows, opts) {
    // rows: [{label, value, display?}] → accessible bar list (values scaled to the max |value|)
    opts = opts || {};
    var max = opts.max || Math.max.apply(null, rows.map(function (r) { return Math.abs(r.value); }).concat([1e-9]));
    return '<div class="bars">' + rows.map(function (r) {
      var w = Math.max(0, Math.min(100, 100 * Math.abs(r.value) / max));
      return '<span class="bar-label">' + r.label + '</span>' +
        '<span class="bar' + (r.value < 0 || opts.alt ? ' alt' : '') + '" style="width:' + w.toFixed(1) + '%" aria-hidden="true"></span>' +
        '<span class="bar-value">' + (r.display !== undefined ? r.display : r.value.toFixed(3)) + '</span>';
    }).join('') + '</div>';
  };
})();
