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
      if (!/^source\//.test(d.u)) score += 0.5; // prefer the chapters' prose
      res.push({d: d, score: score});
    });
    res.sort(function (a, b) { return b.score - a.score; });
    return res.slice(0, 12);
  }
  function snippet(text, ts) {
    var lower = text.toLowerCase(), p = lower.indexOf(ts[0]);
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
    document.addEventListener('keydown', function (e) {
      if (e.key === '/' && document.activeElement !== input && !/INPUT|TEXTAREA|SELECT/.test((document.activeElement || {}).tagName)) { e.preventDefault(); input.focus(); }
    });
  }

  // ---------- charts ----------
  function embedCharts() {
    if (typeof window.vegaEmbed !== 'function') return;
    document.querySelectorAll('[data-chart]').forEach(function (fig) {
      var spec = JSON.parse(fig.querySelector('.chart-spec').textContent);
      delete spec.$schema; // the kernel tags specs v5; vega-lite 6 reads them and would warn
      var target = fig.querySelector('.chart-live');
      if (fig._view) { fig._view.finalize(); target.innerHTML = ''; }
      // canvas: a heat map of thousands of cells stays one element (SVG would add one node per cell)
      // mode: without $schema vega-embed guesses the language and takes a vega-lite "concat" for Vega (title only)
      var opts = {mode: 'vega-lite', renderer: 'canvas', actions: {export: true, source: false, compiled: false, editor: false}};
      if (currentTheme() === 'dark') opts.theme = 'dark';
      window.vegaEmbed(target, spec, opts).then(function (r) {
        fig._view = r.view;
        fig.classList.add('live');
        target.removeAttribute('aria-hidden');
        var summary = target.querySelector('details > summary');
        if (summary) summary.setAttribute('aria-label', 'Chart actions (save as SVG or PNG)');
        var canvas = target.querySelector('canvas.marks');
        if (canvas) { canvas.setAttribute('role', 'img'); canvas.setAttribute('aria-label', fig.querySelector('.chart-static').alt); }
        fig.dataset.rendered = 'true';
        fig.dataset.theme = opts.theme || 'light';
      }).catch(function (err) {
        fig.dataset.rendered = 'static';
        console.warn('chart kept as static SVG:', err && err.message);
      });
    });
  }

  // keyboard users must be able to scroll wide code, tables and formulas
  function markScrollable() {
    document.querySelectorAll('pre, .table-wrap, .katex-display, .chart, .output.html').forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1) { if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '0'); }
      else if (el.getAttribute('tabindex') === '0') el.removeAttribute('tabindex');
    });
  }

  // ---------- TOC highlight ----------
  function initToc() {
    var links = document.querySelectorAll('.toc a');
    if (!links.length || !('IntersectionObserver' in window)) return;
    var map = {};
    links.forEach(function (a) { map[decodeURIComponent(a.getAttribute('href').slice(1))] = a; });
    var obs = new IntersectionObserver(function (entries) {
      entries.forEach(function (en) {
        if (en.isIntersecting && map[en.target.id]) {
          links.forEach(function (a) { a.classList.remove('active'); });
          map[en.target.id].classList.add('active');
        }
      });
    }, {rootMargin: '0px 0px -70% 0px'});
    Object.keys(map).forEach(function (id) { var el = document.getElementById(id); if (el) obs.observe(el); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    setTheme(currentTheme(), false);
    document.querySelectorAll('.theme-toggle').forEach(function (b) {
      b.addEventListener('click', function () { setTheme(currentTheme() === 'dark' ? 'light' : 'dark', true); });
    });
    var menu = document.querySelector('.menu-toggle');
    if (menu) menu.addEventListener('click', function () {
      var open = document.body.classList.toggle('nav-open');
      menu.setAttribute('aria-expanded', String(open));
    });
    document.querySelectorAll('button.copy').forEach(function (b) {
      b.addEventListener('click', function () { copyText(codeText(b.parentNode.querySelector('pre')), b); });
    });
    initSearch();
    markScrollable();
    window.addEventListener('resize', markScrollable);
    // KaTeX and code fonts arrive after the first layout and can widen a formula past its box
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(markScrollable);
    window.addEventListener('load', markScrollable);
    embedCharts();
    document.addEventListener('course-theme', embedCharts);
    initToc();
    var cur = document.querySelector('.sidebar details [aria-current="page"]'), side = document.getElementById('sidebar');
    if (cur && side) side.scrollTop = Math.max(0, cur.getBoundingClientRect().top - side.getBoundingClientRect().top - side.clientHeight / 2);
  });
})();
