import {beforeAll, describe, expect, it} from 'vitest';
import {causalMask} from '../../../lib/transformer/masks';
import {setupBackend} from '../../../test/helpers';

beforeAll(setupBackend);

describe('causalMask', () => {
  it('causalMask(3) is the lower triangle: query i sees keys j ≤ i', async () => {
    expect(await causalMask(3).array()).toEqual([[1, 0, 0], [1, 1, 0], [1, 1, 1]]);
  });
  it('with an offset of 3 cached keys, query i sees keys j ≤ 3 + i', async () => {
    expect(await causalMask(2, 3).array()).toEqual([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]);
  });
});
