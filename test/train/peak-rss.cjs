// Preloaded into a CLI under test (node --require): prints the process's peak resident memory
// (VmHWM, Linux) as "PEAK_RSS_MB <n>" on stderr when it exits, however it exits.
const fs = require('node:fs');
process.on('exit', () => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) process.stderr.write(`\nPEAK_RSS_MB ${(Number(m[1]) / 1024).toFixed(1)}\n`);
  } catch { /* not Linux */ }
});
