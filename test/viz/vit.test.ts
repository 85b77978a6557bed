/// <reference path="../../lib/types/fast-png.d.ts" />
import {decode} from 'fast-png';
import {describe, expect, it} from 'vitest';
import {vegaLiteToSvg} from '../../lib/viz/render';
import {attentionDistanceSpec, encodePng, heatOverlay, maskedImage, matrixPanelsSpec, montageSvg, patchGridImage, patchSequenceImage, posEmbedSimilaritySpec, RgbImage, upscale, viridis} from '../../lib/viz/vit';

const img: RgbImage = {width: 4, height: 4, data: Uint8Array.from({length: 48}, (_, i) => i * 5)};

describe('PNG encoder', () => {
  it('writes an 8-bit RGB PNG (signature, IHDR with the size) whose pixels decode back exactly', () => {
    const png = encodePng(img);
    expect(Array.from(png.slice(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const dv = new DataView(png.buffer, png.byteOffset);
    expect(new TextDecoder().decode(png.slice(12, 16))).toBe('IHDR');
    expect([dv.getUint32(16), dv.getUint32(20), png[24], png[25]]).toEqual([4, 4, 8, 2]);
    const back = decode(png);
    expect([back.width, back.height, back.channels, back.depth]).toEqual([4, 4, 3, 8]);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
  });

  it('names the size and the byte count of a wrong-sized image', () => {
    expect(() => encodePng({width: 2, height: 2, data: new Uint8Array(5)})).toThrow(/2x2 RGB needs 12 bytes, got 5/);
  });
});

describe('patch pictures', () => {
  it('patch grid separates 2x2 patches by gaps; pixel (3, 3) lands in patch (1, 1)', () => {
    const g = patchGridImage(img, 2, 1, 1); // 2 patches of 2 px + 3 gaps = 7
    expect([g.width, g.height]).toEqual([7, 7]);
    const at = (im: RgbImage, x: number, y: number) => Array.from(im.data.slice((y * im.width + x) * 3, (y * im.width + x) * 3 + 3));
    expect(at(g, 0, 0)).toEqual([255, 255, 255]);
    expect(at(g, 5, 5)).toEqual(at(img, 3, 3));
    const s = patchSequenceImage(img, 2, 4, 1, 1); // 4 patches in one row
    expect([s.width, s.height]).toEqual([13, 4]);
    expect(at(s, 10, 1)).toEqual(at(img, 2, 2)); // 4th patch (1, 1), top-left pixel
    expect(() => patchGridImage(img, 3)).toThrow(/4x4 is not divisible by the patch size 3/);
  });

  it('masking greys exactly the removed patches; overlay with alpha 1 is the colour map', () => {
    const m = maskedImage(img, 2, [0, 1, 0, 0]);
    expect(Array.from(m.data.slice((0 * 4 + 2) * 3, (0 * 4 + 2) * 3 + 3))).toEqual([128, 128, 128]);
    expect(Array.from(m.data.slice(0, 3))).toEqual(Array.from(img.data.slice(0, 3)));
    const h = heatOverlay(img, [0, 1, 0, 0], [2, 2], {alpha: 1});
    expect(Array.from(h.data.slice(0, 3))).toEqual(viridis(0));
    expect(Array.from(h.data.slice(3 * 3, 3 * 3 + 3))).toEqual(viridis(1));
    expect(upscale(img, 3).width).toBe(12);
    expect(() => heatOverlay(img, [1, 2, 3], [2, 2])).toThrow(/3 values, expected 2x2 = 4/);
  });

  it('overlay with a shared range scales against it (and clips), not against the map', () => {
    const h = heatOverlay(img, [0.25, 0.5, 2, 0], [2, 2], {alpha: 1, range: [0, 1]});
    expect(Array.from(h.data.slice(0, 3))).toEqual(viridis(0.25));          // patch (0, 0)
    expect(Array.from(h.data.slice(2 * 3, 2 * 3 + 3))).toEqual(viridis(0.5)); // patch (0, 1)
    expect(Array.from(h.data.slice(2 * 4 * 3, 2 * 4 * 3 + 3))).toEqual(viridis(1)); // patch (1, 0): 2 clips to 1
    expect(() => heatOverlay(img, [0, 0, 0, 0], [2, 2], {range: [1, 1]})).toThrow(/hi > lo/);
  });

  it('montage is an SVG with one embedded PNG per cell and the labels', () => {
    const svg = montageSvg([[{img, label: 'cat'}, null], [{img, label: 'a<b'}]], {rowTitles: ['x', 'y']});
    expect(svg.match(/<image /g)!.length).toBe(3 - 1);
    expect(svg).toContain('>cat<');
    expect(svg).toContain('a&lt;b');
  });
});

describe('chart specs render', () => {
  it('position-embedding similarity, attention distance and matrix panels compile to SVG', async () => {
    const sims = [[1, 0.5, 0, -1], [0.5, 1, 0, 0], [0, 0, 1, 0], [-1, 0, 0, 1]];
    for (const spec of [posEmbedSimilaritySpec(sims, [2, 2]), attentionDistanceSpec([{layer: 1, head: 0, distance: 3}], {imageSize: 32, reference: 16}), matrixPanelsSpec([{title: 'a', values: [[1, 0], [0, 1]]}])]) {
      const svg = await vegaLiteToSvg(spec);
      expect(svg.startsWith('<svg')).toBe(true);
    }
  });
});
