import {beforeAll} from 'vitest';
import {initBackend} from '../../lib/backend';
import {formulationTests} from './formulations.shared';

beforeAll(async () => {
  await initBackend('cpu');
});

formulationTests('cpu');
