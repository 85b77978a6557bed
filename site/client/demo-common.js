// Shared by the live demos: start TensorFlow.js once (wasm from this site, cpu as fallback).
(function () {
  'use strict';
  var ready = null;
  function loadScript(src) {
    return new Promise(function (ok, fail) {
      var s = document.createElement('script');
      s.src = src; s.onload = ok; s.onerror = function () { fail(new Error('could not load ' + src)); };
      document.head.appendChild(s);
    });
  }
  /** TensorFlow.js (~1 MB of scripts) loads on the first call, not with the page. */
  window.courseTf = function () {
    if (ready) return ready;
    var rootPath = document.documentElement.dataset.root || './';
    var base = new URL(rootPath + 'assets/vendor/', location.href).href;
    ready = (async function () {
      if (!window.tf || !window.tf.wasm) {
        for (var f of ['tf-core.min.js', 'tf-backend-cpu.min.js', 'tf-backend-wasm.min.js']) await loadScript(base + f);
      }
      var tf = window.tf;
      if (!tf) throw new Error('TensorFlow.js did not load');
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
    ready.catch(function () { ready = null; });
    return ready;
  };
  /**
   * Start a demo when it comes near the viewport or the reader uses it (focus, pointer), whichever
   * is first: its model and tfjs are not downloaded by readers who never reach it.
   */
  window.courseWhenNeeded = function (section, start) {
    var started = false;
    function go() { if (started) return; started = true; if (obs) obs.disconnect(); start(section); }
    var obs = 'IntersectionObserver' in window ? new IntersectionObserver(function (es) { if (es.some(function (e) { return e.isIntersecting; })) go(); }, {rootMargin: '300px 0px'}) : null;
    if (obs) obs.observe(section); else go();
    section.addEventListener('focusin', go);
    section.addEventListener('pointerdown', go);
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
