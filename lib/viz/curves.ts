/**
 * Generic line charts (training curves, measurements vs a parameter) as vega-lite specs.
 * Pure functions: they return a spec; the notebook displays it with showChart(spec).
 *
 *   lineChart({data: history, x: 'step', y: 'loss', color: 'model', title: 'Training loss', logY: true})
 */
import type {VegaLiteSpec} from './render';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Keys of T whose values are numbers / strings or numbers. */
type NumKey<T> = {[K in keyof T]-?: T[K] extends number ? K : never}[keyof T] & string;
type FieldKey<T> = {[K in keyof T]-?: T[K] extends number | string | boolean ? K : never}[keyof T] & string;

export interface LineChartOptions<T extends object> {
  data: T[];
  x: NumKey<T>;
  y: NumKey<T>;
  /** one line per distinct value of this field */
  color?: FieldKey<T>;
  title: string;
  xTitle?: string;
  yTitle?: string;
  logX?: boolean;
  logY?: boolean;
  /** fixed y range, e.g. [0, 1] for accuracies */
  yDomain?: [number, number];
  /** draw a dot at every data point (default: when there are ≤ 60 points per line) */
  points?: boolean;
  /** a shaded band per line between two fields, e.g. mean ± sd over seeds */
  band?: {lower: NumKey<T>; upper: NumKey<T>};
  /** horizontal reference lines, e.g. [{y: 0.99, label: 'target 99 %'}] */
  rules?: {y: number; label?: string}[];
  /** vertical reference lines, e.g. [{x: 60, label: '1 hour'}] */
  xRules?: {x: number; label?: string}[];
  /** format of y in tooltips and axis, d3-format (e.g. '.0%', '.3f') */
  yFormat?: string;
  width?: number;
  height?: number;
}

function checkData(fn: string, data: object[], fields: (string | undefined)[]): void {
  if (!Array.isArray(data) || data.length === 0) throw new Error(`${fn}: data must be a non-empty array of rows`);
  for (const f of fields) {
    if (f !== undefined && !(f in (data[0] as Record<string, unknown>))) {
      throw new Error(`${fn}: field "${f}" is not in the rows (fields: ${Object.keys(data[0]!).join(', ')})`);
    }
  }
}

export function lineChart<T extends object>(o: LineChartOptions<T>): VegaLiteSpec {
  checkData('lineChart', o.data, [o.x, o.y, o.color, o.band?.lower, o.band?.upper]);
  const lines = o.color ? new Set(o.data.map(r => (r as Record<string, unknown>)[o.color!])).size : 1;
  const points = o.points ?? o.data.length / lines <= 60;
  const x = {field: o.x, type: 'quantitative', title: o.xTitle ?? o.x, scale: o.logX ? {type: 'log'} : {zero: false}};
  const y: Record<string, unknown> = {field: o.y, type: 'quantitative', title: o.yTitle ?? o.y,
    scale: {...(o.logY ? {type: 'log'} : {zero: false}), ...(o.yDomain ? {domain: o.yDomain} : {})},
    ...(o.yFormat ? {axis: {format: o.yFormat}} : {})};
  const tooltip = [{field: o.x, type: 'quantitative'}, {field: o.y, type: 'quantitative', ...(o.yFormat ? {format: o.yFormat} : {})},
    ...(o.color ? [{field: o.color, type: 'nominal'}] : [])];
  const line = {
    mark: {type: 'line', point: points, tooltip: true},
    encoding: {x, y, tooltip, ...(o.color ? {color: {field: o.color, type: 'nominal', title: o.color, legend: {labelLimit: 320}}} : {})},
  };
  const layers: Record<string, unknown>[] = [line];
  if (o.band) {
    layers.unshift({mark: {type: 'area', opacity: 0.2}, encoding: {x,
      y: {field: o.band.lower, type: 'quantitative', scale: y.scale}, y2: {field: o.band.upper},
      ...(o.color ? {color: {field: o.color, type: 'nominal', title: o.color}} : {})}});
  }
  if (o.rules?.length) {
    layers.push({data: {values: o.rules}, mark: {type: 'rule', strokeDash: [4, 4], color: 'gray'}, encoding: {y: {field: 'y', type: 'quantitative'}}});
    layers.push({data: {values: o.rules.filter(r => r.label)}, mark: {type: 'text', align: 'left', dx: 4, dy: -6, color: 'gray'},
      encoding: {y: {field: 'y', type: 'quantitative'}, x: {value: 0}, text: {field: 'label'}}});
  }
  if (o.xRules?.length) {
    layers.push({data: {values: o.xRules}, mark: {type: 'rule', strokeDash: [4, 4], color: 'gray'}, encoding: {x: {field: 'x', type: 'quantitative'}}});
    layers.push({data: {values: o.xRules.filter(r => r.label)}, mark: {type: 'text', align: 'left', dx: 4, dy: 6, color: 'gray', baseline: 'top'},
      encoding: {x: {field: 'x', type: 'quantitative'}, y: {value: 0}, text: {field: 'label'}}});
  }
  return {$schema: SCHEMA, title: o.title, width: o.width ?? 420, height: o.height ?? 260, data: {values: o.data}, layer: layers};
}

/** Several charts side by side, wrapped after `columns` (sub-specs lose their own $schema). */
export function concatCharts(specs: VegaLiteSpec[], opts: {title?: string; columns?: number} = {}): VegaLiteSpec {
  if (specs.length === 0) throw new Error('concatCharts: no charts given');
  const strip = (s: VegaLiteSpec) => { const {$schema: _drop, ...rest} = s; return rest; };
  return {$schema: SCHEMA, ...(opts.title ? {title: opts.title} : {}), columns: opts.columns ?? 2, concat: specs.map(strip),
    resolve: {scale: {color: 'independent'}}};
}
