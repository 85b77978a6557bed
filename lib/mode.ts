/**
 * The one switch between the quick budget (CI, `COURSE_MODE=quick`) and the full budget (the
 * reader, default). Both run the same code path; only step counts and sizes differ.
 */
export type CourseMode = 'quick' | 'full';

export function courseMode(): CourseMode {
  const m = (process.env.COURSE_MODE ?? 'full').trim().toLowerCase();
  if (m !== 'quick' && m !== 'full') throw new Error(`COURSE_MODE must be "quick" or "full" (got "${process.env.COURSE_MODE}")`);
  return m;
}

/** Pick a budget by mode: `budget({quick: 50, full: 3000})`. */
export function budget<T>(b: {quick: T; full: T}): T {
  return b[courseMode()];
}
