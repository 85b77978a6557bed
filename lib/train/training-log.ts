/**
 * Reading a run's training log: the `metrics.jsonl` that `npm run train` appends to (one JSON
 * record per line: a `step` record every few batches, an `epoch` record after each epoch) and that
 * `npm run export-model` ships beside a model. Chapter 4 draws its curves from it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What a chart of training curves needs from an epoch (lib/viz/training.ts draws them). */
export interface EpochRecord {
  epoch: number; trainLoss: number; trainAcc: number; testLoss?: number; testAcc?: number; lr?: number;
  /** plain cross-entropy and accuracy on clean (un-augmented) training images, if the run logged them */
  trainCleanLoss?: number; trainCleanAcc?: number;
  /** test images the test numbers were measured on (a run may use fewer than the whole test set per epoch) */
  testCount?: number;
}

/** An epoch record as `npm run train` writes it (fields added over time are optional). */
export interface LoggedEpoch extends EpochRecord {
  type: 'epoch';
  /** optimizer steps done at the end of the epoch; the learning rate of its last step */
  step: number; lr: number;
  /** seconds of training steps in this epoch (evaluations not included); training images per second */
  trainSeconds: number; imgPerSec: number;
  /** seconds since the start of the run, training and evaluations, across resumes */
  elapsedSeconds: number;
  /** seconds of this epoch's evaluations */
  evalSeconds?: number;
  /** test-time augmentation of `testAcc`/`testLoss` (then `testAccSingle`/`testLossSingle` are one pass) */
  tta?: string; testAccSingle?: number; testLossSingle?: number;
  /** accuracy on the exact-pixel test subset, when the whole test set was evaluated */
  testAccExact?: number;
  /** clean training images `trainCleanAcc`/`trainCleanLoss` were measured on */
  trainCleanCount?: number;
  /** worker processes that computed the epoch (logs before 2026-12-02 lack it) */
  workers?: number;
  /** 1-, 5- and 15-minute load averages at the end of the epoch */
  loadAverage?: number[];
  /** the data the run trained on, as its loader names it */
  data?: string;
}

/** A step record: the state of training every few batches. */
export interface LoggedStep {
  type: 'step'; epoch: number; step: number; lr: number; loss: number; imgPerSec: number;
  /** the gradient's global norm; null when the run did not compute it (NaN in JSON) */
  gradNorm: number | null;
}

export interface TrainingLog {
  /** the file read */
  file: string;
  epochs: LoggedEpoch[];
  steps: LoggedStep[];
}

const EPOCH_NUMBERS = ['epoch', 'step', 'lr', 'trainLoss', 'trainAcc', 'trainSeconds', 'imgPerSec', 'elapsedSeconds'] as const;
const STEP_NUMBERS = ['epoch', 'step', 'lr', 'loss', 'imgPerSec'] as const;

/**
 * Reads a training log: `dirOrFile` is a run or model folder (its `metrics.jsonl`) or the file.
 * Records of other types are skipped. A last line without its newline is a record torn by a kill
 * mid-append and is left out, as `--resume` does; any other line that is not a JSON record, or an
 * epoch or step record without one of its numbers, is an error naming the file and the line.
 */
export function readTrainingLog(dirOrFile: string): TrainingLog {
  let file = dirOrFile;
  if (fs.existsSync(dirOrFile) && fs.statSync(dirOrFile).isDirectory()) file = path.join(dirOrFile, 'metrics.jsonl');
  if (!fs.existsSync(file)) {
    throw new Error(`${file}: no training log there (npm run train writes metrics.jsonl in its run folder; npm run export-model copies it beside the model)`);
  }
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  // text ending in '\n' leaves '' last; otherwise the last line is torn
  if (lines[lines.length - 1] !== '') lines.pop();
  const epochs: LoggedEpoch[] = [], steps: LoggedStep[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}, line ${i + 1}`;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not a JSON record (${(e as Error).message})`);
    }
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error(`${where}: not a JSON object`);
    const rec = r as Record<string, unknown>;
    const need = (keys: readonly string[]) => {
      for (const k of keys) {
        if (typeof rec[k] !== 'number') throw new Error(`${where}: the ${String(rec.type)} record has no number "${k}"`);
      }
    };
    if (rec.type === 'epoch') {
      need(EPOCH_NUMBERS);
      epochs.push(rec as unknown as LoggedEpoch);
    } else if (rec.type === 'step') {
      need(STEP_NUMBERS);
      steps.push(rec as unknown as LoggedStep);
    }
  });
  return {file, epochs, steps};
}
