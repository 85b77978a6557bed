// Chapter 3 live demo: the trained CIFAR-10 ViT (safetensors, timm names) run with tfjs in the
// browser; class probabilities and where the classifier looks: the CLS attention map, or for a model
// with sequence pooling (lib/vit/tokenizers.ts, CCT) its pooling weights. Tokens from patches or from
// the convolutional tokenizer (3×3 conv, no bias → ReLU → 3×3 max-pool stride 2 pad 1, per stage).
// Functional tf ops only (tf-core's browser bundle has no chained ops). The same functions run in
// Node for test/site/demo-vit.test.ts (module.exports at the end; the browser has no `module`).
(function () {
  'use strict';
  var CIFAR = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

  /** safetensors: u64 LE header length, JSON header {name: {dtype, shape, data_offsets}}, raw data. */
  function parseSafetensors(buf) {
    var dv = new DataView(buf);
    var n = dv.getUint32(0, true) + dv.getUint32(4, true) * 4294967296;
    if (n <= 0 || 8 + n > buf.byteLength) throw new Error('not a safetensors file (header length ' + n + ')');
    var header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
    var out = {};
    Object.keys(header).forEach(function (name) {
      if (name === '__metadata__') return;
      var h = header[name], s = 8 + n + h.data_offsets[0], e = 8 + n + h.data_offsets[1], data;
      if (h.dtype === 'F32') data = new Float32Array(buf.slice(s, e));
      else if (h.dtype === 'F16' || h.dtype === 'BF16') data = halfToFloat(new Uint16Array(buf.slice(s, e)), h.dtype);
      else throw new Error('tensor ' + name + ' has dtype ' + h.dtype + '; the demo reads F32, F16 and BF16');
      out[name] = {shape: h.shape, data: data};
    });
    return out;
  }
  function halfToFloat(u16, dtype) {
    var f = new Float32Array(u16.length), tmp = new DataView(new ArrayBuffer(4));
    for (var i = 0; i < u16.length; i++) {
      var h = u16[i];
      if (dtype === 'BF16') { tmp.setUint32(0, h << 16); f[i] = tmp.getFloat32(0); continue; }
      var sgn = h & 0x8000 ? -1 : 1, ex = (h >> 10) & 0x1f, fr = h & 0x3ff;
      f[i] = ex === 0 ? sgn * Math.pow(2, -14) * (fr / 1024) : ex === 31 ? (fr ? NaN : sgn * Infinity) : sgn * Math.pow(2, ex - 15) * (1 + fr / 1024);
    }
    return f;
  }

  /** Model config: the course's ViTConfig (or a train recipe with .model), timm/HF aliases, shapes. */
  function readConfig(raw, t, section) {
    var c = Object.assign({}, raw, raw.model && typeof raw.model === 'object' ? raw.model : {});
    var pick = function () { for (var i = 0; i < arguments.length; i++) if (c[arguments[i]] !== undefined) return c[arguments[i]]; };
    if (!t['norm.weight']) throw new Error('model.safetensors has no tensor norm.weight');
    var dModel = t['norm.weight'].shape.slice(-1)[0];
    var numLayers = 0; while (t['blocks.' + numLayers + '.attn.qkv.weight']) numLayers++;
    var convStages = 0; while (t['tokenizer.conv' + convStages + '.weight']) convStages++;
    var tokenizer = pick('tokenizer') || (convStages ? 'conv' : 'patch');
    var imageSize = pick('imageSize', 'image_size', 'img_size') || 32;
    var pool = pick('pool', 'pooling', 'global_pool') || (t.cls_token ? 'cls' : t['attention_pool.weight'] ? 'seq' : 'mean');
    if (pool === 'token') pool = 'cls';
    // what this forward pass does not implement is refused by name, not run wrongly
    if (tokenizer !== 'patch' && tokenizer !== 'conv') throw new Error('the demo runs patch and conv tokenizers, not ' + tokenizer);
    if ((c.norm || 'pre') !== 'pre') throw new Error('the demo runs pre-norm blocks, not ' + c.norm);
    if (c.lsa) throw new Error('the demo does not run locality self-attention (lsa)');
    if ((c.posEmbed || 'learned') !== 'learned' || !t.pos_embed) throw new Error('the demo needs a learned pos_embed');
    if (['cls', 'mean', 'flatten', 'seq'].indexOf(pool) < 0) throw new Error('the demo does not know pooling ' + pool);
    var nTok = t.pos_embed.shape[t.pos_embed.shape.length - 2];
    var nPatch = nTok - (pool === 'cls' ? 1 : 0), grid = Math.round(Math.sqrt(nPatch));
    var numHeads = pick('numHeads', 'num_heads', 'heads');
    if (!numHeads) throw new Error('config.json does not give numHeads');
    var stats = function (v, fallback) { return (v || fallback).map(function (x) { return x > 1 ? x / 255 : x; }); };
    var norm = c.normalize === 'half' ? {mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]} : c.normalize || c.normalization || {};
    return {
      tokenizer: tokenizer, convStages: convStages,
      imageSize: imageSize, patchSize: pick('patchSize', 'patch_size') || imageSize / grid, grid: grid, dModel: dModel, numHeads: numHeads,
      numLayers: numLayers, pool: pool, activation: pick('activation', 'act') || 'gelu', lnEps: pick('lnEps', 'layerNormEps', 'layer_norm_eps', 'eps') || 1e-6,
      classes: pick('classes', 'classNames', 'class_names', 'labels') || CIFAR,
      mean: stats(pick('mean') || norm.mean, JSON.parse(section.dataset.mean || '[0,0,0]')),
      std: stats(pick('std') || norm.std, JSON.parse(section.dataset.std || '[1,1,1]')),
    };
  }

  function loadWeights(tf, t, cfg) {
    var W = {};
    var P = cfg.patchSize, D = cfg.dModel;
    function get(name) { if (!t[name]) throw new Error('model.safetensors has no tensor ' + name); return t[name]; }
    function tensor(name) { var x = get(name); return tf.tensor(x.data, x.shape); }
    /** dense kernels are [in, out]; a PyTorch-layout [out, in] kernel is transposed */
    function kernel(name, inDim) {
      var x = tensor(name);
      if (x.shape[0] === inDim) return x;
      if (x.shape[1] === inDim) { var y = tf.transpose(x); x.dispose(); return y; }
      throw new Error(name + ' has shape [' + x.shape + '], expected [' + inDim + ', …]');
    }
    if (cfg.tokenizer === 'conv') {
      // the course's conv tokenizer: tokenizer.conv{i}.weight [3, 3, C_in, C_out] (HWIO, as tf.conv2d)
      W.convs = [];
      for (var i = 0; i < cfg.convStages; i++) {
        var f = tensor('tokenizer.conv' + i + '.weight');
        if (f.shape.length !== 4 || f.shape[0] !== 3 || f.shape[1] !== 3) throw new Error('tokenizer.conv' + i + '.weight has shape [' + f.shape + '], expected [3, 3, C_in, C_out]');
        W.convs.push(f);
      }
    } else {
      var pe = get('patch_embed.proj.weight');
      if (pe.shape.length === 4) { // PyTorch conv [D, C, P, P] → [P·P·C, D]
        var conv = tf.tensor(pe.data, pe.shape);
        W.patch = tf.reshape(tf.transpose(conv, [2, 3, 1, 0]), [P * P * 3, D]); conv.dispose();
      } else W.patch = kernel('patch_embed.proj.weight', P * P * 3);
      W.patchB = tensor('patch_embed.proj.bias');
    }
    if (cfg.pool === 'cls') W.cls = tf.tidy(function () { return tf.reshape(tensor('cls_token'), [1, D]); });
    W.pos = tf.tidy(function () { return tf.reshape(tensor('pos_embed'), [-1, D]); });
    W.blocks = [];
    for (var l = 0; l < cfg.numLayers; l++) {
      var b = 'blocks.' + l + '.';
      var fc1 = kernel(b + 'mlp.fc1.weight', D);
      W.blocks.push({
        n1g: tensor(b + 'norm1.weight'), n1b: tensor(b + 'norm1.bias'),
        qkv: kernel(b + 'attn.qkv.weight', D), qkvB: tensor(b + 'attn.qkv.bias'),
        proj: kernel(b + 'attn.proj.weight', D), projB: tensor(b + 'attn.proj.bias'),
        n2g: tensor(b + 'norm2.weight'), n2b: tensor(b + 'norm2.bias'),
        fc1: fc1, fc1B: tensor(b + 'mlp.fc1.bias'), fc2: kernel(b + 'mlp.fc2.weight', fc1.shape[1]), fc2B: tensor(b + 'mlp.fc2.bias'),
      });
    }
    W.ng = tensor('norm.weight'); W.nb = tensor('norm.bias');
    if (cfg.pool === 'seq') { W.pool = kernel('attention_pool.weight', D); W.poolB = tensor('attention_pool.bias'); }
    W.head = kernel('head.weight', cfg.pool === 'flatten' ? W.pos.shape[0] * D : D); W.headB = tensor('head.bias');
    return W;
  }

  /** image [S·S·3] in 0..1 → {probs [1, classes], attn: per layer [H, T, T], poolWeights [1, T] (seq pooling)} */
  function forward(tf, W, cfg, pixels) {
    var S = cfg.imageSize, P = cfg.patchSize, g = cfg.grid, D = cfg.dModel, H = cfg.numHeads, Dh = D / H;
    var attn = [], poolWeights = null;
    var logits = tf.tidy(function () {
      var img = tf.div(tf.sub(tf.tensor(pixels, [S, S, 3]), tf.tensor1d(cfg.mean)), tf.tensor1d(cfg.std)); // [S, S, 3]
      var dense = function (v, k, b) { return tf.add(tf.matMul(v, k), b); };
      var x;
      if (W.convs) {
        var m = tf.reshape(img, [1, S, S, 3]);
        W.convs.forEach(function (f) {
          m = tf.maxPool(tf.relu(tf.conv2d(m, f, 1, 1)), 3, 2, 1);                              // [1, ⌈h/2⌉, ⌈w/2⌉, C]
        });
        if (m.shape[1] !== g || m.shape[2] !== g) throw new Error('the conv tokenizer gives a ' + m.shape[1] + '×' + m.shape[2] + ' map, pos_embed has ' + g + '×' + g);
        x = tf.reshape(m, [g * g, D]);                                                           // [N, D]
      } else {
        var rows = tf.transpose(tf.reshape(img, [g, P, g, P * 3]), [0, 2, 1, 3]);              // [g, g, P, P·3]
        var patches = tf.reshape(rows, [g * g, P * P * 3]);                                      // [N, P·P·3], (row, col, channel)
        x = dense(patches, W.patch, W.patchB);                                                   // [N, D]
      }
      if (W.cls) x = tf.concat([W.cls, x], 0);                                                   // [T, D]
      x = tf.add(x, W.pos);
      var T = x.shape[0];
      function ln(v, gm, bt) {
        var m = tf.moments(v, -1, true);
        return tf.add(tf.mul(tf.div(tf.sub(v, m.mean), tf.sqrt(tf.add(m.variance, cfg.lnEps))), gm), bt);
      }
      function act(v) {
        if (cfg.activation === 'relu') return tf.relu(v);
        if (cfg.activation === 'gelu_tanh') return tf.mul(tf.mul(v, 0.5), tf.add(tf.tanh(tf.mul(tf.add(v, tf.mul(tf.pow(v, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));
        return tf.mul(tf.mul(v, 0.5), tf.add(tf.erf(tf.div(v, Math.SQRT2)), 1));                 // exact GELU
      }
      W.blocks.forEach(function (b) {
        var qkv = dense(ln(x, b.n1g, b.n1b), b.qkv, b.qkvB);                                    // [T, 3D]
        var heads = function (i) { return tf.transpose(tf.reshape(tf.slice(qkv, [0, i * D], [T, D]), [T, H, Dh]), [1, 0, 2]); }; // [H, T, Dh]
        var q = heads(0), k = heads(1), v = heads(2);
        var w = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(Dh)));                // [H, T, T]
        attn.push(tf.keep(w));
        var o = tf.reshape(tf.transpose(tf.matMul(w, v), [1, 0, 2]), [T, D]);                    // [T, D]
        x = tf.add(x, dense(o, b.proj, b.projB));
        x = tf.add(x, dense(act(dense(ln(x, b.n2g, b.n2b), b.fc1, b.fc1B)), b.fc2, b.fc2B));
      });
      x = ln(x, W.ng, W.nb);
      var pooled;
      if (cfg.pool === 'seq') {                                                                  // softmax_t(x_t·w + b), Σ_t w_t x_t
        var w = tf.softmax(tf.reshape(dense(x, W.pool, W.poolB), [1, T]));                      // [1, T]
        poolWeights = tf.keep(w);
        pooled = tf.matMul(w, x);                                                                // [1, D]
      } else pooled = cfg.pool === 'cls' ? tf.slice(x, [0, 0], [1, D]) : cfg.pool === 'mean' ? tf.mean(x, 0, true) : tf.reshape(x, [1, T * D]);
      return tf.softmax(dense(pooled, W.head, W.headB));                                         // [1, classes]
    });
    return {probs: logits, attn: attn, poolWeights: poolWeights};
  }

  /**
   * Where the classifier looks, over the tokens [N]: mode 'last' (last layer, mean of heads) or
   * 'rollout' (Abnar & Zuidema), read from the CLS row, or for sequence pooling mixed by its weights
   * w (wᵀA, wᵀR: lib/vit/attention-maps.ts pooledAttention/pooledRollout); mode 'pool' is w itself.
   * Without either (mean pooling): the attention each token receives, averaged over queries.
   */
  function attentionMap(tf, attn, cfg, mode, poolWeights) {
    return tf.tidy(function () {
      if (mode === 'pool') {
        if (!poolWeights) throw new Error('this model has no sequence-pooling weights');
        return Array.from(poolWeights.dataSync());
      }
      var T = attn[0].shape[1], off = cfg.pool === 'cls' ? 1 : 0, A;
      if (mode === 'rollout') {
        var eye = tf.eye(T);
        A = eye;
        attn.forEach(function (w) {
          var a = tf.add(tf.mul(tf.mean(w, 0), 0.5), tf.mul(eye, 0.5));                          // [T, T] residual-aware
          a = tf.div(a, tf.sum(a, -1, true));
          A = tf.matMul(a, A);
        });
      } else A = tf.mean(attn[attn.length - 1], 0);                                              // [T, T]
      var row = off ? tf.slice(A, [0, 1], [1, T - 1]) : poolWeights ? tf.matMul(poolWeights, A) : tf.mean(A, 0, true); // [1, N]
      return Array.from(tf.reshape(row, [-1]).dataSync());
    });
  }

  function heat(v) { // 0..1 → RGB (dark blue → red → yellow)
    var r = Math.min(1, 2 * v), gch = Math.max(0, 2 * v - 1), b = Math.max(0, 0.6 - v);
    return [Math.round(255 * r), Math.round(255 * gch), Math.round(255 * b)];
  }

  function init(section) {
    var $ = function (role) { return section.querySelector('[data-role="' + role + '"]'); };
    var result = $('result'), imgCanvas = $('image'), overlay = $('overlay'), layerSel = $('layer'), upload = $('upload');
    var base = section.dataset.model;
    var S = 32, pixels = null, last = null;
    var small = document.createElement('canvas'); small.width = S; small.height = S;
    var sctx = small.getContext('2d', {willReadFrequently: true});

    function setImage(img) {
      var w = img.naturalWidth || img.width, h = img.naturalHeight || img.height, side = Math.min(w, h);
      sctx.imageSmoothingEnabled = true; sctx.imageSmoothingQuality = 'high';
      sctx.clearRect(0, 0, S, S);
      sctx.drawImage(img, (w - side) / 2, (h - side) / 2, side, side, 0, 0, S, S);           // centre crop → 32×32
      var d = sctx.getImageData(0, 0, S, S).data, px = new Float32Array(S * S * 3);
      for (var i = 0; i < S * S; i++) { px[3 * i] = d[4 * i] / 255; px[3 * i + 1] = d[4 * i + 1] / 255; px[3 * i + 2] = d[4 * i + 2] / 255; }
      pixels = px;
      var c = imgCanvas.getContext('2d'); c.imageSmoothingEnabled = false; c.drawImage(small, 0, 0, imgCanvas.width, imgCanvas.height);
    }
    function loadImage(src) {
      return new Promise(function (res, rej) { var im = new Image(); im.onload = function () { res(im); }; im.onerror = function () { rej(new Error('could not read the image')); }; im.src = src; });
    }

    Promise.all([window.courseTf(), fetch(base + 'config.json').then(function (r) { if (!r.ok) throw new Error('config.json: HTTP ' + r.status); return r.json(); }),
      fetch(base + 'model.safetensors').then(function (r) { if (!r.ok) throw new Error('model.safetensors: HTTP ' + r.status); return r.arrayBuffer(); })])
      .then(function (all) {
        var tf = all[0], tensors = parseSafetensors(all[2]);
        var cfg = readConfig(all[1], tensors, section);
        S = cfg.imageSize; small.width = S; small.height = S;
        var W = loadWeights(tf, tensors, cfg);
        function run() {
          if (!pixels) return;
          var t0 = performance.now();
          var out = forward(tf, W, cfg, pixels);
          var probs = Array.from(out.probs.dataSync()); out.probs.dispose();
          var map = attentionMap(tf, out.attn, cfg, layerSel.value, out.poolWeights);
          out.attn.forEach(function (a) { a.dispose(); });
          if (out.poolWeights) out.poolWeights.dispose();
          result.dataset.map = JSON.stringify(map);
          var ms = performance.now() - t0;
          last = {probs: probs, map: map};
          drawOverlay(map, cfg.grid);
          var order = probs.map(function (p, i) { return i; }).sort(function (a, b) { return probs[b] - probs[a]; });
          var sum = probs.reduce(function (a, b) { return a + b; }, 0);
          result.dataset.prediction = cfg.classes[order[0]];
          result.dataset.probs = JSON.stringify(probs);
          result.dataset.sum = sum.toFixed(6);
          result.innerHTML = '<p class="prediction">Prediction: <strong>' + cfg.classes[order[0]] + '</strong> (' + (100 * probs[order[0]]).toFixed(1) + '%)</p>' +
            window.courseBars(order.map(function (i) { return {label: cfg.classes[i], value: probs[i], display: (100 * probs[i]).toFixed(1) + '%'}; }), {max: 1}) +
            '<p class="demo-status">' + cfg.numLayers + ' layers, ' + cfg.numHeads + ' heads, d<sub>model</sub> ' + cfg.dModel +
            (W.convs ? ', conv tokenizer (' + cfg.grid + '×' + cfg.grid + ' tokens)' : ', patch ' + cfg.patchSize) + (cfg.pool === 'seq' ? ', sequence pooling' : '') +
            ' · ' + ms.toFixed(0) + ' ms on tfjs-' + tf.getBackend() + '</p>';
          section.dataset.ready = 'true';
        }
        function drawOverlay(map, g) {
          var c = overlay.getContext('2d'), n = overlay.width;
          c.imageSmoothingEnabled = false; c.drawImage(small, 0, 0, n, n);
          var max = Math.max.apply(null, map), min = Math.min.apply(null, map), cell = n / g;
          for (var i = 0; i < g; i++) for (var j = 0; j < g; j++) {
            var v = (map[i * g + j] - min) / (max - min || 1), rgb = heat(v);
            c.fillStyle = 'rgba(' + rgb[0] + ',' + rgb[1] + ',' + rgb[2] + ',' + (0.25 + 0.5 * v).toFixed(2) + ')';
            c.fillRect(j * cell, i * cell, Math.ceil(cell), Math.ceil(cell));
          }
        }
        section.querySelectorAll('.sample').forEach(function (b) {
          b.addEventListener('click', function () {
            section.querySelectorAll('.sample').forEach(function (o) { o.setAttribute('aria-pressed', String(o === b)); });
            loadImage(b.dataset.src).then(function (im) { setImage(im); run(); });
          });
        });
        upload.addEventListener('change', function () {
          var f = upload.files && upload.files[0]; if (!f) return;
          var url = URL.createObjectURL(f);
          section.querySelectorAll('.sample').forEach(function (o) { o.setAttribute('aria-pressed', 'false'); });
          loadImage(url).then(function (im) { delete section.dataset.error; setImage(im); run(); URL.revokeObjectURL(url); }, function () {
            URL.revokeObjectURL(url);
            // an unreadable file must not leave the previous picture and its prediction on screen
            pixels = null;
            [imgCanvas, overlay].forEach(function (c) { c.getContext('2d').clearRect(0, 0, c.width, c.height); });
            delete result.dataset.prediction; delete result.dataset.probs; delete result.dataset.sum;
            section.dataset.error = 'unreadable';
            result.innerHTML = '<p class="note" role="alert">Could not read “' + f.name.replace(/[<&>"]/g, '') + '” as an image (PNG, JPEG, GIF or WebP). Pick a test image or upload another file.</p>';
          });
        });
        layerSel.addEventListener('change', run);
        var first = section.querySelector('.sample');
        if (first) first.click(); else result.innerHTML = '<p class="demo-status">Upload an image to classify it.</p>';
        void last;
      })
      .catch(function (e) {
        result.innerHTML = '<p class="note">The demo could not load the model: ' + (e && e.message) + '</p>';
        console.warn('ViT demo:', e);
      });
  }

  if (typeof module !== 'undefined' && module.exports) {
    module.exports = {parseSafetensors: parseSafetensors, readConfig: readConfig, loadWeights: loadWeights, forward: forward, attentionMap: attentionMap};
    return;
  }
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-demo="vit"][data-model]').forEach(function (s) { window.courseWhenNeeded(s, init); });
  });
})();
