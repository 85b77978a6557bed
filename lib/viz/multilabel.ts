/**
 * Multi-label charts (Chapter 4, multi-label section): per-label ROC curves with the chosen
 * operating point of each label (the F1-optimal threshold from lib/eval/multilabel.ts) marked.
 */
import type {RocCurve} from '../eval/metrics';
import type {ThresholdChoice} from '../eval/multilabel';
import type {VegaLiteSpec} from './render';
import {rocChart} from './training';

/** rocChart per label, plus a dot per label at (fpr, tpr) of its threshold when `chosen` is given. */
export function labelRocChart(rocs: RocCurve[], labels: string[], chosen?: ThresholdChoice[], title = 'Per-label ROC curves'): VegaLiteSpec {
  const spec = rocChart(rocs, labels, title) as {layer: Record<string, unknown>[]} & VegaLiteSpec;
  if (!chosen) return spec;
  if (chosen.length !== rocs.length) throw new Error(`labelRocChart: ${chosen.length} thresholds for ${rocs.length} labels`);
  const points = chosen.map((t, c) => ({fpr: t.fpr, tpr: t.recall, threshold: t.threshold, f1: t.f1,
    cls: `${labels[c]} (AUC ${rocs[c]!.auc.toFixed(3)})`}));
  spec.layer.push({data: {values: points}, mark: {type: 'point', filled: true, size: 60, tooltip: true},
    encoding: {x: {field: 'fpr', type: 'quantitative', scale: {domain: [0, 1]}}, y: {field: 'tpr', type: 'quantitative', scale: {domain: [0, 1]}},
      color: {field: 'cls', type: 'nominal', title: 'class', scale: {scheme: 'tableau10'}},
      tooltip: [{field: 'cls', type: 'nominal', title: 'label'}, {field: 'threshold', type: 'quantitative', format: '.3f'},
        {field: 'f1', type: 'quantitative', format: '.3f', title: 'F1'}]}});
  return spec;
}
