/*
 * When a running job is checked again (docs/SCHEDULER.md, rule 6). Two promises set the numbers: a
 * finished job is noticed within 2 s (checks less than 2 s apart, leaving room for the request
 * itself), and a job of D seconds costs at most D/2 + 2 status checks (Bria counts them against
 * the rate limit).
 */

/** The first check of a kind never seen finish, when checks are plentiful. */
export const FIRST_CHECK_MS = 1_500;
/** Between checks during a job's first minute. */
export const CADENCE_MS = 1_950;

/** The gap after a check sent `elapsedMs` after the submit was answered. */
export function pollDelayMs(elapsedMs: number): number {
	if (elapsedMs < FIRST_CHECK_MS) return FIRST_CHECK_MS - elapsedMs;
	if (elapsedMs < 60_000) return CADENCE_MS;
	if (elapsedMs < 120_000) return 3_000;
	return 5_000;
}

/** Delay after the n-th consecutive failed status check (1, 2, 4, 8 … 30 s), unless Retry-After says more (rule 9). */
export function failureBackoffMs(failures: number): number {
	return Math.min(30_000, 1_000 * 2 ** Math.max(0, failures - 1));
}
