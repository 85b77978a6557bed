import {describe, expect, it} from 'vitest';
import {benchTable} from '../../scripts/bench/readme-table';

const bench = {
  started: '2026-12-01T15:00:00.000Z', cpus: 2, cpu_model: 'Test CPU', load_average_start: [0.4, 0.3, 0.2], native_default_threads: 2,
  versions: {node: 'v20.20.2', tfjs: '4.22.0', torch: '1.13.0a0'},
  summary: [{config: 'recipe', batch: 128, run: 'x', load_before: [0.5, 0.4, 0.3], train_img_s: 300, infer_img_s: 900, peak_rss_mb: 1200,
    torch_train_img_s: 280, torch_infer_img_s: 850, torch_peak_rss_mb: 830, train_ratio: 1.071, infer_ratio: 1.059, rss_ratio: 1.45, train_cpu_ratio: 0.9, infer_cpu_ratio: 1.2}],
};

describe('README speed table from bench.json', () => {
  it('one row per config with tfjs / PyTorch numbers, ratios, RSS and the load; versions and CPU in the heading', () => {
    const t = benchTable(bench);
    expect(t).toContain('| recipe (128) | 300.0 / 280.0 | **1.07×** | 0.90× | 900.0 / 850.0 | **1.06×** | 1.20× | 1200 / 830 | 0.5 |');
    expect(t).toContain('2 CPUs (Test CPU), load average 0.4, 0.3, 0.2');
    expect(t).toContain('PyTorch 1.13.0a0');
    expect(t).not.toContain('busy');
  });
  it('flags a run on a busy machine, and refuses a bench without a summary', () => {
    const busy = {...bench, summary: [{...bench.summary[0]!, load_before: [9, 5, 3]}]};
    expect(benchTable(busy)).toMatch(/machine was busy .* ratios are unreliable/);
    expect(() => benchTable({...bench, summary: []})).toThrow(/no summary rows/);
  });
});
