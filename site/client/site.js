// Course site client: theme toggle, mobile menu, copy buttons, search, interactive charts, TOC.
(function () {
  'use strict';
  var root = document.documentElement;
  var KEY = 'course-theme';

  function currentTheme() { return root.dataset.theme === 'dark' ? 'dark' : 'light'; }
  function setTheme(t, persist) {
    root.dataset.theme = t;
    if (persist) { try { localStorage.setItem(KEY, t); } catch (e) { /* private mode */ } }
    document.querySelectorAll('.theme-toggle').forEach(function (b) {
      b.setAttribute('aria-label', t === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
    });
    document.dispatchEvent(new CustomEvent('course-theme', {detail: t}));
  }

  // follow the system setting until the reader picks a theme
  var mq = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  if (mq && mq.addEventListener) mq.addEventListener('change', function (e) {
    var stored = null; try { stored = localStorage.getItem(KEY); } catch (err) { /* ignore */ }
    if (stored !== 'light' && stored !== 'dark') setTheme(e.matches ? 'dark' : 'light', false);
  });

  function copyText(text, button) {
    function done(ok) { button.textContent = ok ? 'Copied' : 'Press Ctrl+C'; setTimeout(function () { button.textContent = 'Copy'; }, 1500); }
    function fallback() {
      var ta = document.createElement('textarea');
      ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
      document.body.appendChild(ta); ta.select();
      var ok = false; try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(ta); done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    else fallback();
  }

  function codeText(pre) {
    var lines = pre.querySelectorAll('.line');
    if (!lines.length) return pre.textContent;
    return Array.prototype.map.call(lines, function (l) {
      var c = l.cloneNode(true); var ln = c.querySelector('.ln'); if (ln) ln.remove(); return c.textContent;
    }).join('\n');
  }

  // ---------- search ----------
  var index = null, loading = null;
  function loadIndex(url) {
    if (!loading) loading = fetch(url).then(function (r) { return r.json(); }).then(function (d) { index = d; return d; });
    return loading;
  }
  function tokens(q) { return q.toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter(function (t) { return t.length > 0; }); }
  function escapeHtml(s) { return s.replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function search(q) {
    var ts = tokens(q); if (!ts.length || !index) return [];
    var res = [];
    index.forEach(function (d) {
      var x = d.x.toLowerCase(), head = (d.t + ' ' + d.s).toLowerCase(), score = 0;
      for (var i = 0; i < ts.length; i++) {
        var t = ts[i], n = 0, p = x.indexOf(t);
        while (p >= 0 && n < 50) { n++; p = x.indexOf(t, p + t.length); }
        var h = head.indexOf(t) >= 0;
        if (!n && !h) return;
        score += Math.log(1 + n) + (h ? 3 : 0);
      }
      res.push({d: d, score: score, lib: d.k === 'l' || /^source\//.test(d.u)});
    });
    // the chapters' sections first, then library source: a reader looks for the explanation
    res.sort(function (a, b) { return (a.lib - b.lib) || (b.score - a.score); });
    return res.slice(0, 12);
  }
  function snippet(text, ts) {
    var lower = text.toLowerCase(), p = -1;
    for (var i = 0; i < ts.length && p < 0; i++) p = lower.indexOf(ts[i]);
    var start = Math.max(0, p - 50), s = text.slice(start, start + 160);
    var out = escapeHtml(s);
    ts.forEach(function (t) {
      out = out.replace(new RegExp('(' + t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + ')', 'ig'), '<mark>$1</mark>');
    });
    return (start > 0 ? '… ' : '') + out + ' …';
  }
  function initSearch() {
    var input = document.getElementById('search-input'), box = document.getElementById('search-results');
    if (!input || !box) return;
    var prefix = root.dataset.root === './' ? '' : root.dataset.root;
    var sel = -1;
    function render() {
      var q = input.value.trim();
      if (!q) { box.hidden = true; return; }
      loadIndex(input.dataset.index).then(function () {
        var ts = tokens(q), r = search(q);
        sel = -1;
        box.innerHTML = r.length ? r.map(function (x, i) {
          return '<a role="option" id="sr-' + i + '" href="' + prefix + x.d.u + '"><span class="r-title">' + escapeHtml(x.d.t) + '</span>' +
            (x.d.s ? ' <span class="r-sub">› ' + escapeHtml(x.d.s) + '</span>' : '') +
            '<span class="r-snip">' + snippet(x.d.x, ts) + '</span></a>';
        }).join('') : '<p class="r-none">No results for “' + escapeHtml(q) + '”</p>';
        box.hidden = false;
      });
    }
    input.addEventListener('input', render);
    input.addEventListener('focus', function () { loadIndex(input.dataset.index); if (input.value.trim()) render(); });
    input.addEventListener('keydown', function (e) {
      var items = box.querySelectorAll('a');
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        if (!items.length) return;
        e.preventDefault();
        sel = (sel + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
        items.forEach(function (a, i) { a.setAttribute('aria-selected', String(i === sel)); });
        input.setAttribute('aria-activedescendant', items[sel].id);
      } else if (e.key === 'Enter') {
        var target = items[sel >= 0 ? sel : 0]; if (target) { e.preventDefault(); location.href = target.href; }
      } else if (e.key === 'Escape') { box.hidden = true; input.blur(); }
    });
    document.addEventListener('click', function (e) { if (!box.contains(e.target) && e.target !== input) box.hidden = true; });
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && !box.hidden) { box.hidden = true; if (box.contains(document.activeElement)) input.focus(); } });
    document.addEventListener('keydown', function (e) {
      if (e.key === '/' && document.activeElement !== input && !/INPUT|TEXTAREA|SELECT/.test((document.activeElement || {}).tagName)) { e.preventDefault(); input.focus(); }
    });
  }

  // ---------- charts ----------
  // Charts are drawn when they come near the viewport (vega and a chart's data load only then),
  // at the width of their column: lib/viz/fit.ts (assets/chart-fit.js) wraps side-by-side charts
  // and shrinks panels until the drawing fits, measured after each draw.
  var vegaReady = null;
  function loadScript(src) {
    return new Promise(function (ok, fail) {
      var s = document.createElement('script');
      s.src = src; s.onload = ok; s.onerror = function () { fail(new Error('could not load ' + src)); };
      document.head.appendChild(s);
    });
  }
  function loadVega() {
    if (window.vegaEmbed) return Promise.resolve();
    if (!vegaReady) {
      var v = (root.dataset.root === './' ? '' : root.dataset.root) + 'assets/';
      vegaReady = loadScript(v + 'vendor/vega.min.js').then(function () { return loadScript(v + 'vendor/vega-lite.min.js'); })
        .then(function () { return loadScript(v + 'vendor/vega-embed.min.js'); })
        .then(function () { return window.courseChartFit ? null : loadScript(v + 'chart-fit.js'); });
    }
    return vegaReady;
  }
  function specOf(fig) {
    if (fig._spec) return Promise.resolve(fig._spec);
    var inline = fig.querySelector('.chart-spec');
    var p = inline ? Promise.resolve(JSON.parse(inline.textContent))
      : fetch(fig.dataset.spec).then(function (r) { if (!r.ok) throw new Error('chart data: HTTP ' + r.status); return r.json(); });
    return p.then(function (spec) {
      delete spec.$schema; // the kernel tags specs v5; vega-lite 6 reads them and would warn
      fig._spec = spec;
      return spec;
    });
  }
  function drawChart(fig) {
    if (fig._drawing) return fig._drawing;
    var target = fig.querySelector('.chart-live');
    fig._drawing = Promise.all([loadVega(), specOf(fig)]).then(function (all) {
      var fit = window.courseChartFit, base = all[1];
      fig.dataset.fit = '';
      var avail = Math.floor(fig.getBoundingClientRect().width);
      // vega-embed's actions menu sits in a right padding 38 px wide; on a phone (and when a chart
      // cannot get narrower) it moves above the chart instead (class "tight", see site.css)
      var ACTIONS = avail < 560 ? 0 : 38;
      fig.classList.toggle('tight', !ACTIONS);
      var spec = fit.prepareForWidth(base, avail - ACTIONS);
      // canvas: a heat map of thousands of cells stays one element (SVG would add one node per cell)
      // mode: without $schema vega-embed guesses the language and takes a vega-lite "concat" for Vega (title only)
      var opts = {mode: 'vega-lite', renderer: 'canvas', actions: {export: true, source: false, compiled: false, editor: false}};
      if (currentTheme() === 'dark') opts.theme = 'dark';
      var tries = 0;
      function once() {
        if (fig._view) { fig._view.finalize(); fig._view = null; }
        target.innerHTML = '';
        return window.vegaEmbed(target, spec, opts).then(function (r) {
          fig._view = r.view;
          var embed = target.firstElementChild, canvas = target.querySelector('canvas.marks');
          var cw = canvas ? canvas.getBoundingClientRect().width : 0, extra = ACTIONS;
          var next = cw + extra > avail + 0.5 && tries++ < 8 ? fit.fitSpec(spec, cw, avail - extra) : undefined;
          fig.dataset.fit = (fig.dataset.fit ? fig.dataset.fit + ' ' : '') + Math.round(cw) + (next ? '' : '.');
          if (next) { spec = next; return once(); }
        });
      }
      return once().then(function () {
        var canvas = target.querySelector('canvas.marks');
        if (ACTIONS && canvas && canvas.getBoundingClientRect().width + ACTIONS > avail + 0.5) fig.classList.add('tight');
        fig._width = avail;
        fig.classList.add('live');
        target.removeAttribute('aria-hidden');
        var summary = target.querySelector('details > summary');
        if (summary) summary.setAttribute('aria-label', 'Chart actions (save as SVG or PNG)');
        if (canvas) { canvas.setAttribute('role', 'img'); canvas.setAttribute('aria-label', fig.dataset.alt || 'chart'); }
        fig.dataset.rendered = 'true';
        fig.dataset.theme = opts.theme || 'light';
      });
    }).catch(function (err) {
      fig.dataset.rendered = 'static';
      if (!fig.querySelector('img.chart-static')) {
        var img = document.createElement('img');
        img.className = 'chart-static'; img.src = fig.dataset.svg; img.alt = fig.dataset.alt || 'chart';
        fig.appendChild(img);
      }
      console.warn('chart kept as static SVG:', err && err.message);
    }).then(function () { fig._drawing = null; });
    return fig._drawing;
  }
  function charts() { return Array.prototype.slice.call(document.querySelectorAll('[data-chart]')); }
  function redrawCharts(onlyResized) {
    charts().forEach(function (fig) {
      if (!fig.dataset.rendered) return;
      if (onlyResized && Math.abs(Math.floor(fig.getBoundingClientRect().width) - (fig._width || 0)) < 16) return;
      drawChart(fig);
    });
  }
  function initCharts() {
    var figs = charts();
    if (!figs.length) return;
    if ('IntersectionObserver' in window) {
      var obs = new IntersectionObserver(function (entries) {
        entries.forEach(function (en) { if (en.isIntersecting) { obs.unobserve(en.target); drawChart(en.target); } });
      }, {rootMargin: '800px 0px'});
      figs.forEach(function (f) { obs.observe(f); });
    } else figs.forEach(drawChart);
    var timer = null;
    window.addEventListener('resize', function () { clearTimeout(timer); timer = setTimeout(function () { redrawCharts(true); }, 250); });
    document.addEventListener('course-theme', function () { redrawCharts(false); });
  }
  /** Draw every chart now (tests, printing); resolves when all are drawn. */
  window.courseCharts = {drawAll: function () { return Promise.all(charts().map(function (f) { return f.dataset.rendered === 'true' ? null : drawChart(f); })); },
    draw: drawChart};

  // keyboard users must be able to scroll wide code, tables and formulas; a code block whose lines
  // run under the copy button gets a strip above its first line for the button ("wide")
  function markScrollable() {
    document.querySelectorAll('.code-wrap > pre.code').forEach(function (pre) {
      pre.classList.remove('wide');
      if (pre.scrollWidth > pre.clientWidth + 1) pre.classList.add('wide');
    });
    document.querySelectorAll('pre, .table-wrap, .math-display, .chart, .output.html').forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) { if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '0'); }
      else if (el.getAttribute('tabindex') === '0') el.removeAttribute('tabindex');
    });
  }

  // ---------- folding: long outputs, code cells ----------
  function initFolding() {
    document.querySelectorAll('pre.output[data-lines]').forEach(function (pre, i) {
      if (!pre.id) pre.id = 'long-output-' + (i + 1);
      var b = document.createElement('button');
      b.type = 'button'; b.className = 'fold-output'; b.setAttribute('aria-controls', pre.id);
      function set(folded) {
        pre.classList.toggle('folded', folded);
        b.setAttribute('aria-expanded', String(!folded));
        b.textContent = folded ? 'Show all ' + pre.dataset.lines + ' lines' : 'Show less';
      }
      b.addEventListener('click', function () { set(!pre.classList.contains('folded')); });
      pre.insertAdjacentElement('afterend', b);
      set(true);
    });
    var toggle = document.querySelector('.code-toggle');
    if (toggle) toggle.addEventListener('click', function () {
      var hide = toggle.getAttribute('aria-pressed') !== 'true';
      toggle.setAttribute('aria-pressed', String(hide));
      toggle.textContent = hide ? 'Show code cells' : 'Hide code cells';
      document.body.classList.toggle('code-hidden', hide);
    });
    document.querySelectorAll('.code-cell > .code-wrap').forEach(function (wrap) {
      var pre = wrap.querySelector('pre'), n = pre.textContent.split('\n').length;
      var b = document.createElement('button');
      b.type = 'button'; b.className = 'fold-code';
      function set(folded) {
        wrap.classList.toggle('folded', folded);
        b.setAttribute('aria-expanded', String(!folded));
        b.textContent = folded ? 'Show code (' + n + (n === 1 ? ' line)' : ' lines)') : 'Hide';
        b.setAttribute('aria-label', folded ? 'Show the code of this cell' : 'Hide the code of this cell');
      }
      b.addEventListener('click', function () { set(!wrap.classList.contains('folded')); });
      wrap.appendChild(b);
      set(false);
    });
  }

  // ---------- TOC highlight ----------
  // the section being read is the last heading above the top fifth of the window, scrolling down or up
  function initToc() {
    var links = document.querySelectorAll('.toc a');
    if (!links.length) return;
    var heads = [];
    links.forEach(function (a) {
      var el = document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)));
      if (el) heads.push({el: el, a: a});
    });
    var current = null, queued = false;
    function update() {
      queued = false;
      var line = window.innerHeight * 0.2 + 56, pick = heads[0];
      for (var i = 0; i < heads.length; i++) { if (heads[i].el.getBoundingClientRect().top <= line) pick = heads[i]; else break; }
      if (pick && pick.a !== current) {
        links.forEach(function (a) { a.classList.remove('active'); a.removeAttribute('aria-current'); });
        pick.a.classList.add('active'); pick.a.setAttribute('aria-current', 'location');
        current = pick.a;
        var toc = document.getElementById('toc');
        if (toc && toc.scrollHeight > toc.clientHeight) {
          var r = current.getBoundingClientRect(), t = toc.getBoundingClientRect();
          if (r.top < t.top || r.bottom > t.bottom) toc.scrollTop += r.top - t.top - t.height / 3;
        }
      }
    }
    window.addEventListener('scroll', function () { if (!queued) { queued = true; requestAnimationFrame(update); } }, {passive: true});
    update();
  }

  // ---------- menu (phone layout) ----------
  function initMenu() {
    var menu = document.querySelector('.menu-toggle'), side = document.getElementById('sidebar');
    if (!menu || !side) return;
    var phone = window.matchMedia('(max-width: 820px)');
    function set(open) {
      document.body.classList.toggle('nav-open', open);
      menu.setAttribute('aria-expanded', String(open));
      menu.setAttribute('aria-label', open ? 'Hide navigation' : 'Show navigation');
      // a closed off-screen menu is out of the tab order and the accessibility tree
      if (phone.matches && !open) side.setAttribute('inert', ''); else side.removeAttribute('inert');
    }
    menu.addEventListener('click', function () { set(!document.body.classList.contains('nav-open')); });
    if (phone.addEventListener) phone.addEventListener('change', function () { set(false); });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && document.body.classList.contains('nav-open')) { set(false); menu.focus(); }
    });
    document.addEventListener('click', function (e) {
      if (document.body.classList.contains('nav-open') && !side.contains(e.target) && !menu.contains(e.target)) set(false);
    });
    set(false);
  }

  document.addEventListener('DOMContentLoaded', function () {
    setTheme(currentTheme(), false);
    document.querySelectorAll('.theme-toggle').forEach(function (b) {
      b.addEventListener('click', function () { setTheme(currentTheme() === 'dark' ? 'light' : 'dark', true); });
    });
    initMenu();
    document.querySelectorAll('button.copy').forEach(function (b) {
      b.addEventListener('click', function () { copyText(codeText(b.parentNode.querySelector('pre')), b); });
    });
    initSearch();
    initFolding();
    markScrollable();
    window.addEventListener('resize', markScrollable);
    document.querySelectorAll('details').forEach(function (d) { d.addEventListener('toggle', markScrollable); });
    // KaTeX and code fonts arrive after the first layout and can widen a formula past its box
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(markScrollable);
    window.addEventListener('load', markScrollable);
    initCharts();
    initToc();
    // run mode (site/runner): its script loads only when the reader asks for it
    var run = document.querySelector('.run-toggle');
    if (run) run.addEventListener('click', function () {
      if (window.courseRunner || run.disabled) return;
      run.disabled = true; run.textContent = 'Loading the runner\u2026';
      loadScript(run.dataset.runner + 'page.js').catch(function () { run.disabled = false; run.textContent = 'Run in browser (could not load the runner: retry)'; });
    });
    var cur = document.querySelector('.sidebar details [aria-current="page"]'), side = document.getElementById('sidebar');
    if (cur && side) side.scrollTop = Math.max(0, cur.getBoundingClientRect().top - side.getBoundingClientRect().top - side.clientHeight / 2);
  });
})();
