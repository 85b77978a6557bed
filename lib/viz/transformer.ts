/**
 * Chapter 2 charts as vega-lite specs (pure functions; the notebook shows them with showChart):
 * the positional-encoding matrix and its dot products, the three masks, per-head attention maps
 * with token labels, and learning-rate schedules. Built on chapter 1's heatmap and line chart.
 */
import {heatmap} from './attention';
import {concatCharts, lineChart} from './curves';
import type {VegaLiteSpec} from './render';

/** The PE matrix: rows = positions, columns = dimensions, colour in [-1, 1]. */
export function positionalEncodingSpec(pe: number[][], title = 'Sinusoidal positional encoding PE[pos, i]'): VegaLiteSpec {
  return heatmap({matrix: pe, title, xTitle: 'dimension i', yTitle: 'position', domain: [-1, 1], colorScheme: 'redblue',
    showValues: false, cellSize: Math.max(4, Math.min(10, Math.floor(480 / Math.max(1, pe[0]?.length ?? 1))))});
}

/** Dot products PE[p]·PE[q] between positions: depends on p − q only (a band structure). */
export function positionDotProductSpec(dots: number[][], title = 'PE[p] · PE[q] between positions'): VegaLiteSpec {
  const max = Math.max(...dots.flat().map(Math.abs));
  return heatmap({matrix: dots, title, xTitle: 'position q', yTitle: 'position p', domain: [-max, max], colorScheme: 'redblue',
    showValues: false, cellSize: Math.max(5, Math.floor(360 / dots.length))});
}

/** Keep-masks side by side (1 = may attend), each a [Tq, Tk] matrix with token labels. */
export function masksSpec(masks: {title: string; matrix: number[][]}[], tokens: {q: string[]; k: string[]}, title = 'Attention masks (1 = may attend)'): VegaLiteSpec {
  return concatCharts(masks.map(m => heatmap({matrix: m.matrix, title: m.title, xLabels: tokens.k, yLabels: tokens.q, xTitle: 'key', yTitle: 'query',
    domain: [0, 1], colorScheme: 'greys', format: '.0f', cellSize: 22})), {title, columns: masks.length});
}

/** Attention weights [H][Tq][Tk] of one example: one heatmap per head with token labels. */
export function headMapsSpec(weights: number[][][], tokens: {q: string[]; k: string[]}, title: string, opts: {columns?: number; cellSize?: number} = {}): VegaLiteSpec {
  if (weights.length === 0) throw new Error('headMapsSpec: no heads given');
  return concatCharts(weights.map((w, h) => heatmap({matrix: w, title: `head ${h + 1}`, xLabels: tokens.k, yLabels: tokens.q,
    domain: [0, 1], showValues: false, cellSize: opts.cellSize ?? 14})), {title, columns: opts.columns ?? Math.min(weights.length, 4)});
}

/** Learning rate per step for one or more schedules. */
export function scheduleSpec(rows: {step: number; lr: number; schedule: string}[], title = 'Learning-rate schedules'): VegaLiteSpec {
  return lineChart({data: rows, x: 'step', y: 'lr', color: 'schedule', title, yTitle: 'learning rate', points: false, yFormat: '.1e'});
}
