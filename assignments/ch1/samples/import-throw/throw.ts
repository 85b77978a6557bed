throw new Error('scores.ts is broken at import');
