import {describe, expect, it} from 'vitest';
import {summarizeTrainingLog} from '../../lib/train/vit-trainer';

describe('summarizeTrainingLog: what export-model writes about a run', () => {
  const log = [
    {type: 'step', epoch: 1, step: 50, loss: 2},
    {type: 'epoch', epoch: 1, trainSeconds: 100, imgPerSec: 200, evalSeconds: 20, elapsedSeconds: 121, loadAverage: [1.5, 1.2, 1.0]},
    {type: 'epoch', epoch: 2, trainSeconds: 300, imgPerSec: 100, evalSeconds: 30, elapsedSeconds: 452, loadAverage: [2.5, 2.0, 1.5]},
  ];

  it('adds up step and evaluation time and weighs img/s by images, not by epochs', () => {
    const s = summarizeTrainingLog(log);
    expect(s.epochs).toBe(2);
    expect(s.elapsedSeconds).toBe(452);
    expect(s.trainSeconds).toBe(400);
    expect(s.evalSeconds).toBe(50);
    // 20,000 + 30,000 images in 400 s = 125 img/s (the mean of the epochs' rates would say 150)
    expect(s.imgPerSec).toBeCloseTo(125, 10);
    expect(s.load1).toEqual({min: 1.5, mean: 2, max: 2.5, epochs: 2});
    expect(s.workerEpochs).toEqual({}); // records without "workers" are not counted: the log does not say
  });

  it('counts the epochs of each number of worker processes (a resumed run may switch)', () => {
    const switched = [...log, {type: 'epoch', epoch: 3, trainSeconds: 10, imgPerSec: 100, elapsedSeconds: 460, workers: 1},
      {type: 'epoch', epoch: 4, trainSeconds: 10, imgPerSec: 100, elapsedSeconds: 470, workers: 2},
      {type: 'epoch', epoch: 5, trainSeconds: 10, imgPerSec: 100, elapsedSeconds: 480, workers: 2},
      {type: 'epoch', epoch: 6, trainSeconds: 10, imgPerSec: 100, elapsedSeconds: 490, workers: 2}];
    expect(summarizeTrainingLog(switched).workerEpochs).toEqual({1: 1, 2: 3});
  });

  it('leaves the load out for logs that predate it, and names what is missing', () => {
    const old = log.map((r) => ({...r, loadAverage: undefined}));
    expect(summarizeTrainingLog(old).load1).toBeUndefined();
    expect(() => summarizeTrainingLog([{type: 'step', step: 1}])).toThrow(/no epoch records/);
    expect(() => summarizeTrainingLog([{type: 'epoch', epoch: 3, imgPerSec: 1, elapsedSeconds: 1}])).toThrow(/epoch 3 has no number "trainSeconds"/);
  });
});
