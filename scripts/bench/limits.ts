/**
 * The physical limit beside each rate-bound figure: what no client could beat under the
 * simulator's rules (Bria's): every endpoint allows `perMinute` requests in any 60 s window,
 * submits and status checks counted apart, and every job needs at least one submit and one
 * status check that finds it done. docs/BENCHMARKS.md explains the formulas in prose.
 */

/** Bria's rate-limit window. */
export const WINDOW_MS = 60_000;

/**
 * Least wall for jobs of these (actual) durations. The k-th submit (0-based) cannot be sent
 * before floor(k / perMinute) windows have passed since the first, so the last
 * r = N − (B − 1) · perMinute jobs (B = ceil(N / perMinute) batches) start no sooner than
 * (B − 1) windows in, and the last of them ends no sooner than that plus the r-th shortest
 * duration. The status lane needs the same count of checks at the same rate, one window behind
 * the first finished job, so it never binds tighter. Unconstrained (perMinute 0): the longest job.
 */
export function wallLimitMs(durationsMs: number[], perMinute: number): number {
	if (!durationsMs.length) return NaN;
	const sorted = [...durationsMs].sort((a, b) => a - b);
	if (!perMinute || perMinute >= sorted.length) return sorted[sorted.length - 1];
	const batches = Math.ceil(sorted.length / perMinute);
	const inLastBatch = sorted.length - (batches - 1) * perMinute;
	return (batches - 1) * WINDOW_MS + sorted[inLastBatch - 1];
}

/**
 * Earliest moment the k-th answer (0-based, in order of arrival) can come when N executions
 * start at once: k + 1 jobs must be done, and only perMinute submits fit in each window, so
 * floor(k / perMinute) windows plus one (nominal) job time.
 */
export function answerLimitMs(k: number, perMinute: number, jobMs: number): number {
	return (perMinute ? Math.floor(k / perMinute) * WINDOW_MS : 0) + jobMs;
}

/** How many of N executions started at once can answer within `withinMs` at best. */
export function answersWithinLimit(executions: number, perMinute: number, jobMs: number, withinMs: number): number {
	let count = 0;
	for (let k = 0; k < executions; k++) if (answerLimitMs(k, perMinute, jobMs) <= withinMs) count++;
	return count;
}

/** Least requests: one submit and one status check per job; no 429 is ever needed. */
export function requestsLimit(jobs: number): number {
	return 2 * jobs;
}

/**
 * Least wall for jobs that arrive over time (a batch, then a stream of executions): every job
 * needs a submit at or after its arrival and a status check at or after its end, each endpoint
 * admitting `perMinute` requests in any 60 s window. Serving requests in order of when they may
 * go, each at the earliest moment the window admits, is optimal for such a limit (the k-th
 * request can never go before the k-th earliest moment), so this is a lower bound on any client:
 * submits in arrival order, then checks in order of the jobs' ends. Jobs are taken in arrival
 * order with their own durations. `arrivalsMs` from the common start; the result likewise.
 */
export function arrivalWallLimitMs(arrivalsMs: number[], durationsMs: number[], perMinute: number): number {
	// The k-th request goes at its own time, or a window after the (k − R)-th, whichever is later.
	const slots = (times: number[]) => {
		const sent: number[] = [];
		for (const [k, time] of [...times].sort((a, b) => a - b).entries()) sent.push(perMinute && k >= perMinute ? Math.max(time, sent[k - perMinute] + WINDOW_MS) : time);
		return sent;
	};
	const submits = slots(arrivalsMs);
	const ends = submits.map((at, k) => at + (durationsMs[k] ?? durationsMs[durationsMs.length - 1] ?? 0));
	const checks = slots(ends);
	return checks.length ? Math.max(...checks) : NaN;
}
