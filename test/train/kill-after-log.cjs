// Fault injection, preloaded into `npm run train` by test/train/train-faults.test.ts (node --require):
// SIGKILLs the process right after the epoch record KILL_AFTER_EPOCH_RECORD was appended to
// metrics.jsonl, i.e. between the log append and the checkpoint that covers it.
const fs = require('node:fs');
const append = fs.appendFileSync;
const epoch = Number(process.env.KILL_AFTER_EPOCH_RECORD);
fs.appendFileSync = function (file, data, ...rest) {
  const r = append.call(this, file, data, ...rest);
  if (String(file).endsWith('metrics.jsonl') && String(data).includes('"type":"epoch"') && JSON.parse(String(data)).epoch === epoch) process.kill(process.pid, 'SIGKILL');
  return r;
};
