#!/usr/bin/python3
"""One-off: write the four starter chapters (kept for reference; chapters are edited directly after)."""
import nbformat
from nbformat.v4 import new_notebook, new_markdown_cell, new_code_cell

KS = {"name": "tslab-course", "display_name": "TypeScript (course)", "language": "typescript"}
LI = {"name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript"}
SETUP = '''import * as tf from '@tensorflow/tfjs';
import {initBackend, describeBackend} from '../lib/backend';
import {courseMode} from '../lib/mode';
import {showTable} from '../display/show';
console.log(describeBackend(await initBackend()), `| mode ${courseMode()}`);'''
SOFTMAX = '''import {maskedSoftmax} from '../lib/attention/softmax';
const scores = tf.tensor1d([2.0, 1.0, 0.1]);
const weights = maskedSoftmax(scores);
const w = Array.from(await weights.data());
showTable(w.map((a, i) => ({key: i + 1, score: (scores.arraySync() as number[])[i], weight: a})), {caption: 'softmax of three scores'});
console.log('sum of weights =', w.reduce((a, b) => a + b, 0).toFixed(6));
tf.dispose([scores, weights]);'''

chapters = {
    "01-attention": ("Chapter 1 — Attention in seq2seq", "Scores between a decoder query and encoder states, the softmax distribution over them, and the context vector; then a trained seq2seq model whose alignments you can see."),
    "02-transformer": ("Chapter 2 — The Transformer", "Self-attention, multi-head attention, positional encoding, residual + LayerNorm, the feed-forward block, masks, cross-attention and a trained encoder-decoder."),
    "03-vit": ("Chapter 3 — The Vision Transformer", "Images as sequences of patches: patch embedding, the CLS token, position embeddings, the encoder, heads and attention maps."),
    "04-cifar-training": ("Chapter 4 — Training a ViT on CIFAR-10", "Training a Vision Transformer on the real CIFAR-10 with TensorFlow.js: data, augmentation, AdamW, schedules, curves, confusion matrix, ROC/AUC."),
}
for name, (title, what) in chapters.items():
    nb = new_notebook(metadata={"kernelspec": KS, "language_info": LI})
    nb.cells = [new_markdown_cell(f"# {title}\n\n{what}"), new_code_cell(SETUP), new_code_cell(SOFTMAX)]
    nbformat.write(nb, f"chapters/{name}.ipynb")
