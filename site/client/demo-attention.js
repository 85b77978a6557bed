// Chapter 1 live demo: scores → softmax weights → context vector, recomputed with tfjs on every edit.
// tf-core's browser bundle has no chained ops (x.add): use the functional ones (tf.add).
(function () {
  'use strict';
  var SOURCE = ['the', 'black', 'cat', 'sleeps'];
  var KEYS = [[1.0, 0.1, 0.0, 0.2], [0.1, 1.0, 0.2, 0.0], [0.0, 0.2, 1.0, 0.1], [0.2, 0.0, 0.1, 1.0]];   // [Tk, d]
  var VALUES = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];                                 // [Tk, d]: one-hot "meanings"
  var STEPS = [                                                                                            // decoder queries [d]
    {word: 'le', q: [2.0, 0.3, 0.5, 0.0]},
    {word: 'chat', q: [0.2, 0.4, 2.2, 0.0]},
    {word: 'noir', q: [0.0, 2.2, 0.6, 0.0]},
    {word: 'dort', q: [0.1, 0.0, 0.3, 2.0]},
  ];
  var W_GENERAL = [[1.2, 0.0, 0.3, 0.0], [0.0, 0.8, 0.0, 0.2], [0.3, 0.0, 1.1, 0.0], [0.0, 0.2, 0.0, 0.9]]; // [d, d]
  var D = 4;

  function init(section) {
    var $ = function (role) { return section.querySelector('[data-role="' + role + '"]'); };
    var stepSel = $('step'), scoreSel = $('score'), temp = $('temperature'), tempOut = $('temperature-out'), qBox = $('query'), result = $('result');
    STEPS.forEach(function (s, i) {
      var o = document.createElement('option');
      o.value = String(i); o.textContent = (i + 1) + ': “' + s.word + '”';
      stepSel.appendChild(o);
    });
    var inputs = [];
    for (var j = 0; j < D; j++) {
      var lab = document.createElement('label');
      lab.innerHTML = 'q<sub>' + (j + 1) + '</sub> ';
      var inp = document.createElement('input');
      inp.type = 'number'; inp.step = '0.1'; inp.min = '-5'; inp.max = '5'; inp.dataset.dim = String(j);
      inp.setAttribute('aria-label', 'query component ' + (j + 1));
      lab.appendChild(inp); qBox.appendChild(lab); inputs.push(inp);
    }
    function loadStep() {
      var q = STEPS[Number(stepSel.value)].q;
      inputs.forEach(function (inp, j) { inp.value = q[j].toFixed(1); });
    }

    window.courseTf().then(function (tf) {
      var K = tf.tensor2d(KEYS), V = tf.tensor2d(VALUES), W = tf.tensor2d(W_GENERAL);
      function update() {
        var t = Number(temp.value);
        tempOut.textContent = t.toFixed(2);
        var qv = inputs.map(function (i) { var v = parseFloat(i.value); return isFinite(v) ? v : 0; });
        var kind = scoreSel.value;
        var out = tf.tidy(function () {
          var q = tf.tensor2d([qv]);                                     // [1, d]
          var keys = kind === 'general' ? tf.matMul(K, W, false, true) : K; // W k_j for every key: [Tk, d]
          var scores = tf.matMul(q, keys, false, true);                  // [1, Tk]
          if (kind === 'scaled') scores = tf.div(scores, Math.sqrt(D));
          var weights = tf.softmax(tf.div(scores, t));                       // [1, Tk], sums to 1
          var context = tf.matMul(weights, V);                           // [1, d]
          return {s: scores.dataSync(), w: weights.dataSync(), c: context.dataSync()};
        });
        var s = Array.from(out.s), w = Array.from(out.w), c = Array.from(out.c);
        var sum = w.reduce(function (a, b) { return a + b; }, 0);
        var best = w.indexOf(Math.max.apply(null, w));
        result.dataset.weights = JSON.stringify(w);
        result.dataset.sum = sum.toFixed(6);
        result.innerHTML =
          '<h3>Scores r<sub>j</sub> = ' + scoreSel.options[scoreSel.selectedIndex].text + (t !== 1 ? ' (÷ temperature ' + t.toFixed(2) + ' before softmax)' : '') + '</h3>' +
          window.courseBars(s.map(function (v, j) { return {label: SOURCE[j], value: v}; })) +
          '<h3>Attention weights α = softmax(r)</h3>' +
          window.courseBars(w.map(function (v, j) { return {label: SOURCE[j], value: v}; }), {max: 1}) +
          '<p class="sum" data-role="sum">Σ α<sub>j</sub> = ' + sum.toFixed(6) + '</p>' +
          '<h3>Context c = Σ α<sub>j</sub> v<sub>j</sub></h3>' +
          '<p class="context"><code>[' + c.map(function (v) { return v.toFixed(3); }).join(', ') + ']</code> — mostly “' + SOURCE[best] + '” (' + (100 * w[best]).toFixed(1) + '%), backend ' + tf.getBackend() + '</p>';
        section.dataset.ready = 'true';
      }
      stepSel.addEventListener('change', function () { loadStep(); update(); });
      [scoreSel, temp].concat(inputs).forEach(function (el) { el.addEventListener('input', update); el.addEventListener('change', update); });
      loadStep();
      update();
    }).catch(function (e) {
      result.innerHTML = '<p class="note">The demo could not start TensorFlow.js: ' + (e && e.message) + '</p>';
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-demo="attention"]').forEach(function (s) { window.courseWhenNeeded(s, init); });
  });
})();
