/**
 * Heatmaps as vega-lite specs — Chapter 1 §1.7 (alignments) and later chapters (attention maps).
 * Labels may repeat (an input "11/23/26" has three 2s): cells are placed by index and the axis
 * shows the label of each index, so equal labels never merge. Spaces are shown as "␣".
 */
import type {VegaLiteSpec} from './render';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

export interface HeatmapOptions {
  /** rows × columns of numbers (e.g. attention weights: output steps × input positions) */
  matrix: number[][];
  xLabels?: string[];
  yLabels?: string[];
  title: string;
  xTitle?: string;
  yTitle?: string;
  /** colour range, default [0, max(1, largest value)] for weights */
  domain?: [number, number];
  colorScheme?: string;
  /** print the value in each cell (default: when the matrix has ≤ 100 cells) */
  showValues?: boolean;
  /** d3 format of values in cells and tooltips, default '.2f' */
  format?: string;
  cellSize?: number;
}

const visible = (s: string) => (s === ' ' ? '␣' : s);

function labelExpr(labels: string[]): string {
  return `${JSON.stringify(labels.map(visible))}[datum.value]`;
}

export function heatmap(o: HeatmapOptions): VegaLiteSpec {
  const rows = o.matrix.length;
  if (rows === 0) throw new Error('heatmap: matrix is empty');
  const cols = o.matrix[0]!.length;
  o.matrix.forEach((r, i) => {
    if (r.length !== cols) throw new Error(`heatmap: matrix is not rectangular (row 0 has ${cols} columns, row ${i} has ${r.length})`);
  });
  if (cols === 0) throw new Error('heatmap: matrix has no columns');
  if (o.xLabels && o.xLabels.length !== cols) throw new Error(`heatmap: ${o.xLabels.length} xLabels for ${cols} columns`);
  if (o.yLabels && o.yLabels.length !== rows) throw new Error(`heatmap: ${o.yLabels.length} yLabels for ${rows} rows`);
  const xl = o.xLabels ?? Array.from({length: cols}, (_, j) => String(j));
  const yl = o.yLabels ?? Array.from({length: rows}, (_, i) => String(i));
  const values = o.matrix.flatMap((r, i) => r.map((v, j) => ({row: i, col: j, value: v, x: visible(xl[j]!), y: visible(yl[i]!)})));
  const max = Math.max(...values.map(v => v.value));
  const domain = o.domain ?? [0, Math.max(1, max)];
  const fmt = o.format ?? '.2f';
  const cell = o.cellSize ?? 18;
  const showValues = o.showValues ?? rows * cols <= 100;
  const enc = {
    x: {field: 'col', type: 'ordinal', title: o.xTitle ?? null, axis: {labelExpr: labelExpr(xl), labelAngle: 0, orient: 'top'}},
    y: {field: 'row', type: 'ordinal', title: o.yTitle ?? null, axis: {labelExpr: labelExpr(yl)}},
  };
  const layers: Record<string, unknown>[] = [{
    mark: {type: 'rect', tooltip: true},
    encoding: {...enc, color: {field: 'value', type: 'quantitative', scale: {domain, scheme: o.colorScheme ?? 'blues'}, title: null},
      tooltip: [{field: 'y', title: 'row'}, {field: 'x', title: 'column'}, {field: 'value', type: 'quantitative', format: fmt}]},
  }];
  if (showValues) {
    layers.push({mark: {type: 'text', fontSize: 9}, encoding: {...enc, text: {field: 'value', type: 'quantitative', format: fmt},
      color: {condition: {test: `datum.value > ${(domain[0] + domain[1]) / 2}`, value: 'white'}, value: 'black'}}});
  }
  return {$schema: SCHEMA, title: o.title, width: cols * cell, height: rows * cell, data: {values}, layer: layers};
}

/**
 * Alignment of one decoded example: rows = output characters (and the end token), columns = input
 * characters, cell = attention weight of that output step on that input position.
 */
export function alignmentHeatmap(a: {input: string; output: string; weights: number[][]}, title?: string): VegaLiteSpec {
  const yLabels = [...a.output, '⏎'].slice(0, a.weights.length);
  return heatmap({matrix: a.weights, xLabels: [...a.input], yLabels, title: title ?? `${a.input} → ${a.output}`,
    xTitle: 'input character', yTitle: 'output character', domain: [0, 1], showValues: false, cellSize: 16});
}
