/**
 * One execution, 20 items, against a simulator limited to 10 requests per minute per endpoint
 * (sliding 60 s window, 429 + Retry-After), 5 s jobs varying ± 10 %, downloads off: once with
 * the organization's plan stated (on the credential, or the node option where the build has no
 * credential field) and once without. Each variant runs in its own fresh process (bench.ts).
 */
import { runBriaNode } from '../../test/harness/runNode';
import { buildStamp, readyThenWait, errorMessages, failedItems, generateImages, inputItems, jobDurations, keepConsole, progress, requestCounts, withPlan } from './common';
import { SimProcess } from './simClient';
import type { RateLimitResult, RateLimitRow } from './types';

const LIMIT_PER_MINUTE = 10;
const ITEMS = 20;
const JOB_MS = 5_000;
const JITTER_MS = JOB_MS / 10;
/** Stops a run that would take longer than this (it then counts as failed): keeps the bench bounded. */
const RUN_LIMIT_MS = 9.5 * 60_000;

export const RATE_LIMIT_VARIANTS: Record<string, { label: string; plan: boolean }> = {
	plan: { label: 'plan stated (10/min)', plan: true },
	learn: { label: 'no plan stated', plan: false },
};

export async function measureRateLimit(variant: string): Promise<RateLimitResult> {
	const chosen = RATE_LIMIT_VARIANTS[variant];
	if (!chosen) throw new Error(`ratelimit: unknown variant "${variant}" (${Object.keys(RATE_LIMIT_VARIANTS).join(', ')})`);
	const stamp = buildStamp();
	progress(`ratelimit ${variant}: one execution of ${ITEMS} items × ${JOB_MS / 1000} s jobs at ${LIMIT_PER_MINUTE}/min (${stamp.pacing} pacing; minutes)`);
	const sim = await SimProcess.start({ jobMs: JOB_MS, jitterMs: JITTER_MS, rateLimitPerMinute: LIMIT_PER_MINUTE, retryAfterHeader: true });
	const restoreConsole = keepConsole();
	try {
		await readyThenWait();
		const { credentials, options, place } = withPlan(sim.credentials, chosen.plan ? LIMIT_PER_MINUTE : undefined);
		const result = await runBriaNode({
			credentials,
			items: inputItems(ITEMS),
			continueOnFail: true,
			cancelAfterMs: RUN_LIMIT_MS,
			parameters: generateImages('bench rate limit', { downloadImage: false, maxWaitTime: 900, ...options }),
		});
		const log = await sim.log();
		const row: RateLimitRow = {
			variant: chosen.label,
			options,
			plan: place,
			durationsMs: jobDurations(log),
			items: ITEMS,
			failed: failedItems(result, ITEMS),
			wallMs: result.durationMs,
			cancelled: result.durationMs >= RUN_LIMIT_MS,
			...requestCounts(log),
			errors: errorMessages(result),
		};
		progress(`ratelimit ${variant}: done in ${(row.wallMs / 1000).toFixed(0)} s (${row.throttled} × 429 of ${row.requests} requests, ${row.failed} failed)`);
		return { ...stamp, limitPerMinute: LIMIT_PER_MINUTE, jobMs: JOB_MS, jitterMs: JITTER_MS, rows: [row] };
	} finally {
		restoreConsole();
		await sim.stop();
	}
}
