import {beforeAll} from 'vitest';
import {initBackend} from '../../lib/backend';
import {formulationTests} from './formulations.shared';

beforeAll(async () => {
  await initBackend('wasm'); // this file runs in its own process (vitest pool 'forks')
});

formulationTests('wasm');
