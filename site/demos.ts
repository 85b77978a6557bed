/** HTML shells of the live demos; the behaviour is in site/client/demo-*.js (tfjs in the browser). */
import type {Demo} from './notebook';

export function attentionDemo(): Demo {
  return {
    id: 'live-attention-playground',
    title: 'Live: attention playground',
    text: 'attention playground query keys values scores softmax weights context vector decoder step dot product scaled additive',
    html: `<section class="demo" id="demo-attention" data-demo="attention" aria-labelledby="live-attention-playground">
<h2 id="live-attention-playground">Live: attention playground <a class="anchor" href="#live-attention-playground" aria-label="Link to this section">#</a></h2>
<p>Each source word has a key vector and a value vector. Pick a decoder step (its query) or edit the
query yourself: the scores <span class="nowrap">r<sub>j</sub> = score(q, k<sub>j</sub>)</span>, the softmax weights
<span class="nowrap">α<sub>j</sub></span> and the context <span class="nowrap">c = Σ α<sub>j</sub> v<sub>j</sub></span> are recomputed with TensorFlow.js in your browser.</p>
<div class="demo-controls">
  <label>Decoder step <select data-role="step"></select></label>
  <label>Score <select data-role="score">
    <option value="dot">dot q·k</option>
    <option value="scaled" selected>scaled q·k/√d</option>
    <option value="general">general qᵀWk</option>
  </select></label>
  <label>Temperature <input data-role="temperature" type="range" min="0.25" max="4" step="0.05" value="1"> <output data-role="temperature-out">1.00</output></label>
</div>
<fieldset class="demo-query"><legend>Query vector q</legend><div data-role="query"></div></fieldset>
<div class="demo-result" data-role="result" aria-live="polite"><p class="demo-status">Loading TensorFlow.js…</p></div>
</section>`,
  };
}

export interface VitDemoInfo { modelUrl?: string; samples: {url: string; label: string; index: number}[]; mean?: number[]; std?: number[]; pool?: string }

export function vitDemo(info: VitDemoInfo): Demo {
  // a model with sequence pooling (the conv-tokenizer recipes) has no CLS token: its map is where it pools
  const seq = info.pool === 'seq', mapName = seq ? 'where the classifier looks' : 'CLS attention map';
  const samples = info.samples.map((s, i) =>
    `<button type="button" class="sample" data-src="${s.url}" data-label="${s.label}" aria-pressed="${i === 0}">` +
    `<img src="${s.url}" alt="CIFAR-10 test image ${s.index}: ${s.label}" width="48" height="48"><span>${s.label}</span></button>`).join('');
  const body = info.modelUrl
    ? `<div class="demo-controls">
  <div class="samples" role="group" aria-label="CIFAR-10 test images">${samples}</div>
  <label class="upload">Or upload an image <input type="file" accept="image/*" data-role="upload"></label>
  <label>${seq ? 'Map' : 'Attention map'} <select data-role="layer">${seq
    ? '<option value="pool" selected>sequence-pooling weights</option><option value="last">last layer, pooled row (mean of heads)</option><option value="rollout">pooling weights × rollout</option>'
    : '<option value="last" selected>last layer, mean of heads</option><option value="rollout">rollout over all layers</option>'}</select></label>
</div>
<div class="vit-panels">
  <figure><canvas data-role="image" width="256" height="256" aria-label="input image"></canvas><figcaption>input (32×32)</figcaption></figure>
  <figure><canvas data-role="overlay" width="256" height="256" aria-label="${mapName} over the image"></canvas><figcaption>${mapName}</figcaption></figure>
  <div class="vit-probs" data-role="result" aria-live="polite"><p class="demo-status">Loading the model…</p></div>
</div>`
    : `<p class="note" data-role="no-model"><strong>Model not trained yet.</strong> This demo runs the course's CIFAR-10 ViT
(trained in chapter 4) in your browser. Its checkpoint, <code>models/cifar-vit/model.safetensors</code> with
<code>config.json</code>, is not in this build yet; rebuild the site (<code>npm run build:site</code>) once it exists.</p>`;
  return {
    id: 'live-vit-on-cifar-10',
    title: 'Live: the ViT classifies CIFAR-10',
    text: 'live demo vision transformer CIFAR-10 classify image upload CLS attention map probabilities rollout',
    html: `<section class="demo" id="demo-vit" data-demo="vit"${info.modelUrl ? ` data-model="${info.modelUrl}"` : ''}${info.mean ? ` data-mean="${JSON.stringify(info.mean)}" data-std="${JSON.stringify(info.std)}"` : ''} aria-labelledby="live-vit-on-cifar-10">
<h2 id="live-vit-on-cifar-10">Live: the ViT classifies CIFAR-10 <a class="anchor" href="#live-vit-on-cifar-10" aria-label="Link to this section">#</a></h2>
<p>The trained model runs in your browser with TensorFlow.js: pick a CIFAR-10 test image or upload your own
(it is scaled to 32×32). The bars are the class probabilities; ${seq
    ? 'the heat map shows where the classifier looks: the model has no CLS token, and sequence pooling averages its tokens with weights it computes for each image; those weights are the map (with a convolutional tokenizer a token is painted on its cell but saw an overlapping window around it, chapter 3 §3.8). The other choices trace the weights back through the attention.'
    : 'the heat map shows how much the CLS token attends to each patch.'}</p>
${body}
</section>`,
  };
}
