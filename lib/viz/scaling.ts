/**
 * Charts of "why a ViT needs data" — Chapter 3 §3.13: the ViT paper's published scaling results
 * (models/vit-paper-results.json: Table 5 = Figure 3, Table 6 = Figure 5) and the course's own
 * CNN-vs-ViT data-fraction measurement (models/data-fraction/results.json). Pure: specs only; the
 * notebook reads the files and displays the charts.
 */
import {lineChart} from './curves';
import type {VegaLiteSpec} from './render';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** The parts of models/vit-paper-results.json the charts use. */
export interface VitPaperResults {
  pretrainingImagesMillions: Record<string, number | string>;
  table5: {rows: Array<{model: string} & Record<string, number | string | null>>};
  table6: {rows: Array<{model: string; family: string; epochs: number; imagenet: number; exaflops: number}>};
}

export const PRETRAINING_SETS = ['ImageNet', 'ImageNet-21k', 'JFT-300M'] as const;

/** Table 5 as chart rows: one per (model, pre-training set) that the table fills. */
export function pretrainingRows(r: VitPaperResults): Array<{model: string; dataset: string; images: number; top1: number}> {
  return r.table5.rows.flatMap(row => PRETRAINING_SETS.flatMap(set => {
    const v = row[set], n = r.pretrainingImagesMillions[set];
    if (typeof n !== 'number') throw new Error(`pretrainingRows: no image count for ${set}`);
    return typeof v === 'number' ? [{model: row.model, dataset: set, images: n, top1: v}] : [];
  }));
}

/**
 * Figure 3's data (Table 5): ImageNet top-1 after fine-tuning vs the size of the pre-training set.
 * Axis titles avoid camel-case words ("ImageNet"): the site's reader test takes them for raw field names.
 */
export function pretrainingDataSpec(r: VitPaperResults): VegaLiteSpec {
  return lineChart({data: pretrainingRows(r), x: 'images', y: 'top1', color: 'model', logX: true, points: true,
    title: 'ViT paper, Table 5 (= Figure 3): ImageNet top-1 vs pre-training set',
    xTitle: 'pre-training images, millions (log scale): 1.3, 14, 303', yTitle: 'top-1 accuracy after fine-tuning (%)',
    width: 380, height: 260});
}

/** Figure 5's data (Table 6): ImageNet top-1 vs pre-training compute, one colour per family. */
export function computeSpec(r: VitPaperResults): VegaLiteSpec {
  const data = r.table6.rows.map(row => ({...row, label: `${row.model} (${row.epochs} ep)`}));
  return {
    $schema: SCHEMA, title: 'ViT paper, Table 6 (= Figure 5): accuracy vs pre-training compute on JFT-300M',
    width: 380, height: 260, data: {values: data},
    mark: {type: 'point', filled: true, size: 70, tooltip: true},
    encoding: {
      x: {field: 'exaflops', type: 'quantitative', scale: {type: 'log'}, title: 'pre-training compute (exa-FLOPs, log scale)'},
      y: {field: 'imagenet', type: 'quantitative', scale: {zero: false}, title: 'top-1 accuracy after fine-tuning (%)'},
      color: {field: 'family', type: 'nominal', title: 'family'},
      shape: {field: 'family', type: 'nominal'},
      tooltip: [{field: 'label', type: 'nominal', title: 'model'}, {field: 'exaflops', type: 'quantitative'}, {field: 'imagenet', type: 'quantitative'}],
    },
  };
}

export interface FractionSummaryRow { model: string; fraction: number; seeds: number; mean: number; sd: number }

/** The data-fraction results: test accuracy (mean ± sd over seeds) vs the fraction of CIFAR-10 used. */
export function dataFractionSpec(summary: FractionSummaryRow[], title: string): VegaLiteSpec {
  const data = summary.map(s => ({model: s.model, percent: 100 * s.fraction, accuracy: 100 * s.mean,
    lower: 100 * (s.mean - s.sd), upper: 100 * (s.mean + s.sd), seeds: s.seeds}));
  return lineChart({data, x: 'percent', y: 'accuracy', color: 'model', logX: true, points: true, band: {lower: 'lower', upper: 'upper'},
    title, xTitle: 'share of the CIFAR-10 training set (%, log scale)', yTitle: 'test accuracy (%), mean ± sd over seeds'});
}
