import { createHash } from 'crypto';

import { now } from './clock';

/*
 * Jobs Bria accepted, remembered so that n8n's own re-runs never bill them again (docs/SCHEDULER.md,
 * rule 10). n8n's Retry On Fail (with or without Continue On Fail) runs the node's whole execute()
 * again in the same execution, the same run index and the same process: an item whose job Bria
 * accepted then continues that job instead of submitting it again. The key is the execution, the
 * node, its run (a loop's next iteration is a new run: it makes new images), the item, the job's
 * place among the item's jobs, and the exact request. A job that failed is forgotten: the retry is
 * for it. Module state, like the budget: one Map per n8n process, pruned when next used.
 */

/** Longer than any one execution waits (Max Wait Time ≤ 2 h per job, n8n's retries ≤ 5 × 5 s). */
const KEEP_MS = 6 * 60 * 60_000;
const MOST_KEPT = 100_000;

/** A job's request_id, or '' for a submit whose answer never came (Bria may have accepted it). */
const accepted = new Map<string, { requestId: string; at: number }>();

export interface JobIdentity {
	executionId: string;
	node: string;
	runIndex: number;
	itemIndex: number;
	/** The job's place among its item's jobs (Images per Item). */
	variant: number;
	path: string;
	body: unknown;
}

/** The key of a job, or undefined outside an execution (nothing to continue then). */
export function jobKey(job: JobIdentity): string | undefined {
	if (!job.executionId) return undefined;
	return createHash('sha256')
		.update(JSON.stringify([job.executionId, job.node, job.runIndex, job.itemIndex, job.variant, job.path, job.body]))
		.digest('hex');
}

/**
 * What an earlier try of this job left: its request_id, '' when its submit's answer was lost (Bria
 * may have accepted and billed it: it is never sent again), undefined when there is nothing.
 */
export function acceptedJob(key: string | undefined): string | undefined {
	if (!key) return undefined;
	const at = now();
	// Oldest first (insertion order): stop at the first one still young.
	for (const [oldKey, entry] of accepted) {
		if (at - entry.at <= KEEP_MS && accepted.size <= MOST_KEPT) break;
		accepted.delete(oldKey);
	}
	return accepted.get(key)?.requestId;
}

export function rememberJob(key: string | undefined, requestId: string): void {
	if (!key) return;
	accepted.delete(key);
	accepted.set(key, { requestId, at: now() });
}

export function forgetJob(key: string | undefined): void {
	if (key) accepted.delete(key);
}
