// Chapter 3 live demo: the trained CIFAR-10 ViT (safetensors, timm names) run with tfjs in the
// browser; class probabilities and the CLS attention map over the image.
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
    var dModel = (t.cls_token || t['patch_embed.proj.bias']).shape.slice(-1)[0];
    var numLayers = 0; while (t['blocks.' + numLayers + '.attn.qkv.weight']) numLayers++;
    var imageSize = pick('imageSize', 'image_size', 'img_size') || 32;
    var pool = pick('pool', 'pooling', 'global_pool') || (t.cls_token ? 'cls' : 'mean');
    if (pool === 'token') pool = 'cls';
    var nTok = t.pos_embed.shape[t.pos_embed.shape.length - 2];
    var nPatch = nTok - (pool === 'cls' ? 1 : 0), grid = Math.round(Math.sqrt(nPatch));
    var numHeads = pick('numHeads', 'num_heads', 'heads');
    if (!numHeads) throw new Error('config.json does not give numHeads');
    var stats = function (v, fallback) { return (v || fallback).map(function (x) { return x > 1 ? x / 255 : x; }); };
    var norm = c.normalize || c.normalization || {};
    return {
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
      if (x.shape[1] === inDim) { var y = x.transpose(); x.dispose(); return y; }
      throw new Error(name + ' has shape [' + x.shape + '], expected [' + inDim + ', …]');
    }
    var pe = get('patch_embed.proj.weight');
    if (pe.shape.length === 4) { // PyTorch conv [D, C, P, P] → [P·P·C, D]
      var conv = tf.tensor(pe.data, pe.shape);
      W.patch = conv.transpose([2, 3, 1, 0]).reshape([P * P * 3, D]); conv.dispose();
    } else W.patch = kernel('patch_embed.proj.weight', P * P * 3);
    W.patchB = tensor('patch_embed.proj.bias');
    if (cfg.pool === 'cls') W.cls = tensor('cls_token').reshape([1, D]);
    W.pos = tensor('pos_embed').reshape([-1, D]);
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
    W.head = kernel('head.weight', cfg.pool === 'flatten' ? W.pos.shape[0] * D : D); W.headB = tensor('head.bias');
    return W;
  }

  /** image [32·32·3] in 0..1 → {probs [classes], attn: per layer [H, T, T]} */
  function forward(tf, W, cfg, pixels) {
    var S = cfg.imageSize, P = cfg.patchSize, g = S / P, D = cfg.dModel, H = cfg.numHeads, Dh = D / H;
    var attn = [];
    var logits = tf.tidy(function () {
      var img = tf.tensor(pixels, [S, S, 3]).sub(tf.tensor1d(cfg.mean)).div(tf.tensor1d(cfg.std)); // [S, S, 3]
      var rows = img.reshape([g, P, g, P * 3]).transpose([0, 2, 1, 3]);                          // [g, g, P, P·3]
      var patches = rows.reshape([g * g, P * P * 3]);                                            // [N, P·P·3]
      var x = patches.matMul(W.patch).add(W.patchB);                                             // [N, D]
      if (W.cls) x = tf.concat([W.cls, x], 0);                                                   // [T, D]
      x = x.add(W.pos);
      var T = x.shape[0];
      function ln(v, gm, bt) {
        var m = tf.moments(v, -1, true);
        return v.sub(m.mean).div(m.variance.add(cfg.lnEps).sqrt()).mul(gm).add(bt);
      }
      function act(v) {
        if (cfg.activation === 'relu') return tf.relu(v);
        if (cfg.activation === 'gelu_tanh') return v.mul(0.5).mul(tf.tanh(v.add(v.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
        return v.mul(0.5).mul(tf.erf(v.div(Math.SQRT2)).add(1));                                 // exact GELU
      }
      W.blocks.forEach(function (b) {
        var h = ln(x, b.n1g, b.n1b);
        var qkv = h.matMul(b.qkv).add(b.qkvB);                                                  // [T, 3D]
        var heads = function (i) { return qkv.slice([0, i * D], [T, D]).reshape([T, H, Dh]).transpose([1, 0, 2]); }; // [H, T, Dh]
        var q = heads(0), k = heads(1), v = heads(2);
        var w = tf.softmax(q.matMul(k, false, true).div(Math.sqrt(Dh)));                        // [H, T, T]
        attn.push(tf.keep(w));
        var o = w.matMul(v).transpose([1, 0, 2]).reshape([T, D]);                                // [T, D]
        x = x.add(o.matMul(b.proj).add(b.projB));
        var m = act(ln(x, b.n2g, b.n2b).matMul(b.fc1).add(b.fc1B));
        x = x.add(m.matMul(b.fc2).add(b.fc2B));
      });
      x = ln(x, W.ng, W.nb);
      var pooled = cfg.pool === 'cls' ? x.slice([0, 0], [1, D]) : cfg.pool === 'mean' ? x.mean(0, true) : x.reshape([1, T * D]);
      return tf.softmax(pooled.matMul(W.head).add(W.headB));                                     // [1, classes]
    });
    return {probs: logits, attn: attn};
  }

  /** CLS (or mean-token) attention over the patches: last layer mean of heads, or rollout. */
  function attentionMap(tf, attn, cfg, mode) {
    return tf.tidy(function () {
      var T = attn[0].shape[1], off = cfg.pool === 'cls' ? 1 : 0, A;
      if (mode === 'rollout') {
        var eye = tf.eye(T);
        A = eye;
        attn.forEach(function (w) {
          var a = w.mean(0).mul(0.5).add(eye.mul(0.5));                                          // [T, T] residual-aware
          a = a.div(a.sum(-1, true));
          A = a.matMul(A);
        });
      } else A = attn[attn.length - 1].mean(0);                                                  // [T, T]
      var row = off ? A.slice([0, 1], [1, T - 1]) : A.mean(0, true).slice([0, 0], [1, T]);
      return Array.from(row.reshape([-1]).dataSync());
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
          var map = attentionMap(tf, out.attn, cfg, layerSel.value);
          out.attn.forEach(function (a) { a.dispose(); });
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
            '<p class="demo-status">' + cfg.numLayers + ' layers, ' + cfg.numHeads + ' heads, d<sub>model</sub> ' + cfg.dModel + ', patch ' + cfg.patchSize +
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
          loadImage(url).then(function (im) { setImage(im); run(); URL.revokeObjectURL(url); }, function (e) { result.innerHTML = '<p class="note">' + e.message + '</p>'; });
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

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-demo="vit"][data-model]').forEach(init);
  });
})();
