// Run mode of a chapter page (loaded by site.js when the reader presses "Run in browser"):
// code cells become editable, a kernel in a Web Worker (kernel.js) runs them with shared state,
// and their outputs replace the executed notebook's outputs in place, drawn as the static page draws them.
(function () {
  'use strict';
  if (window.courseRunner) return;
  var html = document.documentElement;
  var toggle = document.querySelector('.run-toggle');
  var here = document.currentScript ? document.currentScript.src : new URL((toggle && toggle.dataset.runner || 'assets/runner/') + 'page.js', location.href).href;
  var RUNNER = new URL('./', here).href;
  var SITE = new URL(html.dataset.root === './' ? './' : html.dataset.root, location.href).href;

  var css = document.createElement('link');
  css.rel = 'stylesheet'; css.href = RUNNER + 'runner.css';
  document.head.appendChild(css);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function stripAnsi(s) { return String(s).replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''); }
  function plain(v) { return Array.isArray(v) ? v.join('') : typeof v === 'string' ? v : v == null ? '' : JSON.stringify(v, null, 2); }

  // ---------- the toolbar ----------
  var params = new URLSearchParams(location.search);
  var settings = {mode: params.get('mode') === 'full' ? 'full' : 'quick', backend: params.get('backend') || 'auto'};
  var bar = el('div', 'runner-bar');
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', 'Run this chapter in the browser');
  bar.innerHTML =
    '<button type="button" class="button" data-act="run-all">Run all</button>' +
    '<button type="button" class="button" data-act="stop" disabled>Stop</button>' +
    '<button type="button" class="button" data-act="restart">Restart</button>' +
    '<label>Mode <select data-role="mode"><option value="quick">quick (small budgets, as in CI)</option><option value="full">full (the chapter\u2019s budgets: slow)</option></select></label>' +
    '<label>Backend <select data-role="backend"><option value="auto">auto: GPU (WebGL) if available, else wasm</option><option value="webgl">WebGL</option><option value="wasm">wasm</option><option value="cpu">cpu</option></select></label>' +
    '<span class="runner-status" role="status" aria-live="polite">Starting the kernel\u2026</span>' +
    '<span class="runner-backend"></span>';
  var actions = document.querySelector('.page-actions');
  (actions ? actions.parentNode : document.querySelector('main') || document.body).insertBefore(bar, actions ? actions.nextSibling : null);
  var statusEl = bar.querySelector('.runner-status'), backendEl = bar.querySelector('.runner-backend');
  var btn = function (a) { return bar.querySelector('[data-act="' + a + '"]'); };
  bar.querySelector('[data-role="mode"]').value = settings.mode;
  bar.querySelector('[data-role="backend"]').value = settings.backend;
  function status(t) { statusEl.textContent = t; }

  // ---------- cells ----------
  var cells = Array.prototype.map.call(document.querySelectorAll('.code-cell'), function (cellEl, i) {
    var wrap = cellEl.querySelector('.code-wrap'), pre = wrap.querySelector('pre.code');
    var code = pre.textContent.replace(/\n$/, '');
    var ta = el('textarea', 'cell-editor');
    ta.value = code;
    ta.spellcheck = false;
    ta.setAttribute('aria-label', 'Code of cell ' + (i + 1) + ' (editable; Shift+Enter runs it)');
    ta.rows = Math.max(2, code.split('\n').length);
    ta.addEventListener('input', function () { ta.rows = Math.max(2, ta.value.split('\n').length); });
    ta.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && (e.shiftKey || e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        runCell(i).then(function () { var next = cells[i + 1]; if (next && e.shiftKey) next.editor.focus(); });
      } else if (e.key === 'Tab' && !e.shiftKey) {
        e.preventDefault();
        var s = ta.selectionStart;
        ta.setRangeText('  ', s, ta.selectionEnd, 'end');
      }
    });
    wrap.classList.remove('folded');
    wrap.classList.add('editing');
    pre.hidden = true;
    wrap.insertBefore(ta, pre);
    var tools = el('div', 'cell-tools');
    var run = el('button', 'button run-cell', '\u25B6 Run');
    run.type = 'button';
    run.setAttribute('aria-label', 'Run cell ' + (i + 1));
    run.addEventListener('click', function () { runCell(i); });
    var st = el('span', 'cell-status');
    tools.appendChild(run); tools.appendChild(st);
    cellEl.insertBefore(tools, wrap);
    var outputs = cellEl.querySelector('.outputs');
    if (!outputs) { outputs = el('div', 'outputs'); cellEl.appendChild(outputs); }
    return {el: cellEl, editor: ta, outputs: outputs, status: st, prompt: wrap.querySelector('.prompt'), original: code};
  });
  document.body.classList.add('run-mode');
  if (toggle) { toggle.disabled = true; toggle.textContent = 'Run mode'; toggle.setAttribute('aria-pressed', 'true'); }

  // ---------- outputs, drawn like site/notebook.ts draws the executed notebook's ----------
  var VL = ['application/vnd.vegalite.v5+json', 'application/vnd.vegalite.v4+json', 'application/vnd.vegalite.v6+json'];
  var NUMERIC = /^[-\u2212+\u00B1]?\s*(\d[\d,]*(\.\d+)?|\.\d+)(e[-+]?\d+)?\s*(%|ms|s|min|h|M|K|k|B|MB|KB|GB|\u00D7|x|px|img\/s)?(\s*(\u00B1|\+\/-)\s*\d[\d.,]*\s*%?)?$/i;
  function markNumeric(root) {
    root.querySelectorAll('td, th').forEach(function (c) { if (!c.className && NUMERIC.test(c.textContent.trim())) c.className = 'num'; });
  }
  function blobUrl(text, type) { return URL.createObjectURL(new Blob([text], {type: type})); }
  function altOf(data, fallback) {
    var t = plain(data['text/plain']).trim(), m = /^<([\s\S]+)>$/.exec(t);
    return ((m ? m[1] : t) || fallback).replace(/^vega-lite chart: /, '').slice(0, 200);
  }
  function renderBundle(data, metadata) {
    var vl = VL.filter(function (m) { return m in data; })[0];
    if (vl) {
      var spec = data[vl], svg = plain(data['image/svg+xml']);
      var fig = el('figure', 'output chart');
      fig.setAttribute('data-chart', '');
      fig.dataset.alt = altOf(data, 'chart');
      if (svg) fig.dataset.svg = blobUrl(svg, 'image/svg+xml');
      var h = /<svg[^>]*?\sheight="([\d.]+)"/.exec(svg);
      fig.style.setProperty('--chart-h', Math.round(Math.min(h ? Number(h[1]) : 320, 900)) + 'px');
      fig.appendChild(el('div', 'chart-live')).setAttribute('aria-hidden', 'true');
      var s = el('script', 'chart-spec', JSON.stringify(spec));
      s.type = 'application/json';
      fig.appendChild(s);
      return fig;
    }
    if (data['text/html'] !== undefined) {
      var d = el('div', 'output html');
      d.innerHTML = plain(data['text/html']);
      d.querySelectorAll('table').forEach(function (t) { var w = el('div', 'table-wrap'); t.parentNode.insertBefore(w, t); w.appendChild(t); });
      markNumeric(d);
      return d;
    }
    var img = function (src, cls, fallback, size) {
      var f = el('figure', 'output image' + (cls ? ' ' + cls : '')), im = el('img');
      im.src = src; im.alt = altOf(data, fallback);
      f.appendChild(im);
      if (size) im.addEventListener('load', function () {
        if (im.naturalWidth && im.naturalWidth < 160) {
          var k = Math.max(1, Math.floor(160 / im.naturalWidth));
          im.width = im.naturalWidth * k; im.height = im.naturalHeight * k; f.classList.add('pixelated');
        }
      });
      return f;
    };
    if (data['image/png'] !== undefined) return img('data:image/png;base64,' + plain(data['image/png']).replace(/\s/g, ''), '', 'image', true);
    if (data['image/jpeg'] !== undefined) return img('data:image/jpeg;base64,' + plain(data['image/jpeg']).replace(/\s/g, ''), '', 'image');
    if (data['image/svg+xml'] !== undefined) return img(blobUrl(plain(data['image/svg+xml']), 'image/svg+xml'), 'svg', 'figure');
    if (data['application/json'] !== undefined) return el('pre', 'output json', JSON.stringify(data['application/json'], null, 2));
    var text = data['text/markdown'] !== undefined ? data['text/markdown'] : data['text/latex'] !== undefined ? data['text/latex'] : data['text/plain'];
    return el('pre', 'output text', stripAnsi(plain(text)));
  }
  function addOutput(cell, node) {
    cell.outputs.appendChild(node);
    if (node.hasAttribute && node.hasAttribute('data-chart') && window.courseCharts && window.courseCharts.draw) window.courseCharts.draw(node);
  }
  function addStream(cell, name, text) {
    var last = cell.outputs.lastElementChild;
    if (last && last.classList.contains('stream') && last.classList.contains(name)) last.textContent += stripAnsi(text);
    else addOutput(cell, el('pre', 'output stream ' + name, stripAnsi(text)));
  }
  function progressNode(line) {
    // a bar when the total is known ("[===>   ] 120/390 steps"), else the line alone ("2 steps | loss …")
    var m = /\]\s+([\d.,]+)\/([\d.,]+)/.exec(line), d = el('div', 'output progress');
    if (m) {
      var p = el('progress');
      p.max = Number(m[2].replace(/,/g, '')); p.value = Number(m[1].replace(/,/g, ''));
      p.setAttribute('aria-label', 'progress');
      d.appendChild(p);
    }
    d.appendChild(el('code', '', line.replace(/\[[=> ]*\]\s*/, '')));
    return d;
  }
  function showError(cell, err) {
    var lines = cell.editor.value.split('\n');
    var where = err.line ? '\n    at line ' + err.line + ' of this cell: ' + (lines[err.line - 1] || '').trim() : '';
    var stack = err.stack && !err.line ? '\n' + err.stack.split('\n').slice(1, 4).join('\n') : '';
    var pre = el('pre', 'output error', (err.name || 'Error') + ': ' + err.message + where + stack);
    pre.setAttribute('role', 'note');
    pre.setAttribute('aria-label', 'Error output');
    if (err.line) pre.dataset.line = String(err.line);
    addOutput(cell, pre);
  }

  // ---------- the kernel ----------
  var worker = null, ready = null, pending = {}, nextId = 0, running = null, count = 0, displays = {};
  function startKernel() {
    worker = new Worker(RUNNER + 'kernel.js', {type: 'module'});
    status('Starting the kernel (' + settings.mode + ' mode)\u2026');
    ready = new Promise(function (ok, fail) {
      worker.onerror = function (e) { status('The kernel failed to start: ' + (e.message || 'see the console')); fail(new Error(e.message || 'kernel failed')); };
      worker.onmessage = function (ev) {
        var m = ev.data;
        if (m.type === 'ready') {
          if (m.error) { status('The kernel failed to start: ' + m.error); fail(new Error(m.error)); return; }
          backendEl.textContent = m.backend + ' | mode ' + m.mode;
          status('Ready.');
          ok(m);
          return;
        }
        var p = pending[m.id];
        if (!p) return;
        var cell = cells[p.index];
        if (m.type === 'stream') addStream(cell, m.name, m.text);
        else if (m.type === 'display') {
          var node = m.displayId ? progressNode(plain(m.bundle.data['text/plain'])) : renderBundle(m.bundle.data, m.bundle.metadata || {});
          if (m.displayId && displays[m.displayId] && displays[m.displayId].parentNode) displays[m.displayId].replaceWith(node);
          else addOutput(cell, node);
          if (m.displayId) displays[m.displayId] = node;
        } else if (m.type === 'done') {
          if (!m.ok) showError(cell, m.error || {message: 'failed'});
          finish(p, {ok: m.ok, seconds: m.seconds, error: m.error});
        }
      };
    });
    ready.catch(function () { /* shown in the status line */ });
    worker.postMessage({type: 'init', base: SITE, mode: settings.mode, backend: settings.backend});
    return ready;
  }
  function finish(p, result) {
    delete pending[p.id];
    var cell = cells[p.index];
    cell.el.classList.remove('running');
    cell.status.textContent = result.ok ? 'done in ' + result.seconds.toFixed(1) + ' s' : result.stopped ? 'stopped' : 'error';
    if (cell.prompt) cell.prompt.textContent = '[' + (result.ok || !result.stopped ? ++count : ' ') + ']';
    if (running === p) running = null;
    btn('stop').disabled = !running;
    p.resolve(result);
  }
  function killKernel() {
    if (worker) worker.terminate();
    worker = null;
    Object.keys(pending).forEach(function (k) { var p = pending[k]; showError(cells[p.index], {name: 'Stopped', message: 'the kernel was stopped; the variables of earlier cells are gone: run the cells above again (Run all)'}); finish(p, {ok: false, stopped: true, seconds: 0}); });
    count = 0;
    cells.forEach(function (c) { if (c.prompt) c.prompt.textContent = '[ ]'; });
  }

  // one cell at a time, in the order they were asked for; a restart drops the cells still waiting
  var queue = Promise.resolve(), epoch = 0;
  function runCell(i) {
    var cell = cells[i], mine = epoch;
    cell.status.textContent = 'waiting\u2026';
    if (cell.prompt) cell.prompt.textContent = '[*]';
    var job = queue.then(function () {
      if (mine !== epoch) { cell.status.textContent = 'not run (the kernel was restarted)'; if (cell.prompt) cell.prompt.textContent = '[ ]'; return {ok: false, stopped: true, seconds: 0}; }
      return runNow(i);
    });
    queue = job.catch(function () { /* the next cell runs anyway */ });
    return job;
  }
  function runNow(i) {
    var cell = cells[i];
    return new Promise(function (resolve) {
      var p = {id: ++nextId, index: i, resolve: resolve};
      pending[p.id] = p;
      cell.outputs.innerHTML = '';
      cell.el.classList.add('running');
      cell.status.textContent = 'waiting for the kernel\u2026';
      if (cell.prompt) cell.prompt.textContent = '[*]';
      (ready || startKernel()).then(function () {
        if (!pending[p.id]) return;
        running = p;
        btn('stop').disabled = false;
        cell.status.textContent = 'running\u2026';
        status('Running cell ' + (i + 1) + ' of ' + cells.length + '\u2026');
        worker.postMessage({type: 'run', id: p.id, code: cell.editor.value});
      }, function (e) {
        showError(cell, {name: 'Error', message: 'the kernel did not start: ' + e.message});
        finish(p, {ok: false, seconds: 0});
      });
    }).then(function (r) {
      if (!running) status(r.ok ? 'Ready.' : r.stopped ? 'Stopped; the kernel was restarted.' : 'Cell ' + (i + 1) + ' failed.');
      return r;
    });
  }
  var stopAll = false;
  function runAll(from) {
    stopAll = false;
    var t0 = performance.now(), times = [];
    var chain = Promise.resolve({ok: true});
    btn('run-all').disabled = true;
    function step(i) {
      if (i >= cells.length || stopAll) return Promise.resolve({ok: !stopAll, failed: stopAll ? i : undefined});
      return runCell(i).then(function (r) {
        times.push(r.seconds);
        return r.ok ? step(i + 1) : {ok: false, failed: i, error: r.error};
      });
    }
    return chain.then(function () { return step(from || 0); }).then(function (r) {
      btn('run-all').disabled = false;
      r.seconds = (performance.now() - t0) / 1000;
      r.cellSeconds = times;
      status(r.ok ? 'Ran all ' + cells.length + ' cells in ' + r.seconds.toFixed(1) + ' s.' : 'Stopped at cell ' + (r.failed + 1) + '.');
      return r;
    });
  }
  function restart() {
    stopAll = true;
    epoch++;
    killKernel();
    ready = null;
    return startKernel();
  }

  btn('run-all').addEventListener('click', function () { runAll(0); });
  btn('stop').addEventListener('click', function () { restart(); status('Stopped; the kernel was restarted (variables are gone).'); });
  btn('restart').addEventListener('click', function () { restart(); });
  bar.querySelector('[data-role="mode"]').addEventListener('change', function (e) { settings.mode = e.target.value; restart(); });
  bar.querySelector('[data-role="backend"]').addEventListener('change', function (e) { settings.backend = e.target.value; restart(); });

  startKernel();
  window.courseRunner = {
    cells: function () { return cells.length; },
    ready: function () { return ready; },
    runCell: runCell,
    runAll: runAll,
    restart: restart,
    stop: function () { return restart(); },
    setCode: function (i, code) { cells[i].editor.value = code; },
    code: function (i) { return cells[i].editor.value; },
    settings: function (s) { if (s) { Object.assign(settings, s); return restart(); } return settings; },
  };
})();
