/** Small helpers shared by the command-line scripts (durations, progress bar); arguments: cli-args.ts. */

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

/** `[=======>      ] 120/390` (or bytes with a total of 0 = unknown). */
export function progressLine(done: number, total: number, width = 24): string {
  if (!(total > 0)) return `${done}`;
  const f = Math.max(0, Math.min(1, done / total));
  const n = Math.round(f * width);
  return `[${'='.repeat(Math.max(0, n - 1))}${n > 0 ? (n === width ? '=' : '>') : ''}${' '.repeat(width - n)}] ${done}/${total}`;
}
