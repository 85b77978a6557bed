import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {vegaLiteToSvg} from '../../lib/viz/render';
import {computeSpec, dataFractionSpec, pretrainingDataSpec, pretrainingRows, VitPaperResults} from '../../lib/viz/scaling';

const paper = JSON.parse(readFileSync('models/vit-paper-results.json', 'utf8'));

describe('the ViT paper numbers (models/vit-paper-results.json)', () => {
  it('Table 5\'s JFT-300M column equals the same runs in Table 6 (the paper\'s two tables agree)', () => {
    const t6 = (m: string, ep: number) => paper.table6.rows.find((r: any) => r.model === m && r.epochs === ep).imagenet;
    const t5 = (m: string) => paper.table5.rows.find((r: any) => r.model === m)['JFT-300M'];
    expect(t5('ViT-B/32')).toBe(t6('ViT-B/32', 7));
    expect(t5('ViT-B/16')).toBe(t6('ViT-B/16', 7));
    expect(t5('ViT-L/32')).toBe(t6('ViT-L/32', 7));
    expect(t5('ViT-L/16')).toBe(t6('ViT-L/16', 14));
  });
  it('Table 6 lists the 7 ResNets, 6 ViTs and 5 hybrids of the scaling study (section 4.4 of the paper)', () => {
    const count = (f: string) => paper.table6.rows.filter((r: any) => r.family === f).length;
    expect([count('ResNet (BiT)'), count('ViT'), count('hybrid')]).toEqual([7, 6, 5]);
  });
  it('every part names its source table', () => {
    for (const k of ['table2', 'table5', 'table6']) expect(paper[k].source).toMatch(/^Table \d/);
    expect(paper.table2.tpuv3CoreDays).toHaveLength(paper.table2.columns.length);
  });
});

describe('scaling charts', () => {
  it('Table 5 rows: one per filled (model, pre-training set); ViT-H/14 has no ImageNet entry', () => {
    const rows = pretrainingRows(paper as VitPaperResults);
    expect(rows).toHaveLength(14);
    expect(rows.find(r => r.model === 'ViT-L/16' && r.dataset === 'ImageNet')).toEqual({model: 'ViT-L/16', dataset: 'ImageNet', images: 1.3, top1: 76.53});
  });
  it('axis titles are words, not camel-case field names (the site\'s reader test rejects "ImageNet")', () => {
    const titles = (spec: any): string[] => {
      const enc = spec.encoding ?? spec.layer?.[spec.layer.length - 1]?.encoding ?? {};
      return [enc.x?.title, enc.y?.title].filter(Boolean);
    };
    for (const spec of [pretrainingDataSpec(paper), computeSpec(paper)]) {
      expect(titles(spec)).toHaveLength(2);
      for (const t of titles(spec)) expect(t).not.toMatch(/[a-z][A-Z]/);
    }
  });
  it('render to SVG with their titles', async () => {
    for (const spec of [pretrainingDataSpec(paper), computeSpec(paper)]) {
      const svg = await vegaLiteToSvg(spec);
      expect(svg).toContain('ViT paper, Table');
    }
    const frac = dataFractionSpec([
      {model: 'cnn', fraction: 0.1, seeds: 2, mean: 0.5, sd: 0.01}, {model: 'cnn', fraction: 1, seeds: 2, mean: 0.8, sd: 0.01},
      {model: 'vit', fraction: 0.1, seeds: 2, mean: 0.4, sd: 0.02}, {model: 'vit', fraction: 1, seeds: 2, mean: 0.75, sd: 0.02}], 'CNN vs ViT') as any;
    expect(frac.data.values[1]).toMatchObject({model: 'cnn', percent: 100, accuracy: 80});
    expect(await vegaLiteToSvg(frac)).toContain('CNN vs ViT');
  });
});
