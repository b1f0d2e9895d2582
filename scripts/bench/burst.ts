/**
 * Burst of executions: 20 single-item executions started at once, each its own execution in
 * n8n's real engine (as forms, CMS webhooks and AI agents trigger the node: one execution per
 * event), against a simulator limiting every endpoint to 10 (or 60) requests per 60 s, 5 s jobs
 * varying ± 10 %, downloads off, otherwise default options. Each variant runs in a fresh process
 * (bench.ts), so nothing is learned before it starts.
 */
import { runBriaNode } from '../../test/harness/runNode';
import { buildStamp, readyThenWait, errorMessages, failedItems, generateImages, jobDurations, keepConsole, progress, requestCounts, withPlan } from './common';
import { SimProcess } from './simClient';
import type { BurstResult, BurstRow } from './types';

const EXECUTIONS = 20;
const JOB_MS = 5_000;
/** Durations vary ± 10 %, as real jobs do. */
const JITTER_MS = JOB_MS / 10;
/** Stops an execution still running after this long (it then counts as failed): keeps the bench bounded. */
const RUN_LIMIT_MS = 8 * 60_000;

interface BurstVariant {
	perMinute: number;
	/** Whether the organization's plan is stated (on the credential, where the build has the field). */
	plan: boolean;
}

export const BURST_VARIANTS: Record<string, BurstVariant> = {
	'plan-10': { perMinute: 10, plan: true },
	'learn-10': { perMinute: 10, plan: false },
	'plan-60': { perMinute: 60, plan: true },
	'learn-60': { perMinute: 60, plan: false },
};

export async function measureBurst(variant: string): Promise<BurstResult> {
	const { perMinute, plan } = BURST_VARIANTS[variant] ?? {};
	if (!perMinute) throw new Error(`burst: unknown variant "${variant}" (${Object.keys(BURST_VARIANTS).join(', ')})`);
	const stamp = buildStamp();
	progress(`burst ${variant}: ${EXECUTIONS} executions at once, ${perMinute}/min per endpoint, plan ${plan ? 'stated' : 'not stated'} (${stamp.pacing} pacing)`);
	const sim = await SimProcess.start({ jobMs: JOB_MS, jitterMs: JITTER_MS, rateLimitPerMinute: perMinute, retryAfterHeader: true });
	const restoreConsole = keepConsole();
	try {
		await readyThenWait();
		const { credentials, options, place } = withPlan(sim.credentials, plan ? perMinute : undefined);
		const started = Date.now();
		const answersMs: number[] = [];
		const runs = await Promise.all(
			Array.from({ length: EXECUTIONS }, async (_, index) => {
				const run = await runBriaNode({
					credentials,
					continueOnFail: true,
					cancelAfterMs: RUN_LIMIT_MS,
					items: [{ json: { index } }],
					parameters: generateImages(`bench burst ${index + 1}`, { downloadImage: false, ...options }),
				});
				// A failed execution answered too, but with no image: only results count as answers.
				if (!failedItems(run, 1)) answersMs.push(Date.now() - started);
				return run;
			}),
		);
		const wallMs = Date.now() - started;
		const log = await sim.log();
		const row: BurstRow = {
			variant,
			perMinute,
			plan: place,
			executions: EXECUTIONS,
			failed: runs.reduce((sum, run) => sum + failedItems(run, 1), 0),
			wallMs,
			answersMs: answersMs.sort((a, b) => a - b),
			durationsMs: jobDurations(log),
			cancelled: runs.some((run) => run.durationMs >= RUN_LIMIT_MS),
			...requestCounts(log),
			errors: [...new Set(runs.flatMap((run) => errorMessages(run)))].slice(0, 3),
		};
		progress(`burst ${variant}: done in ${(wallMs / 1000).toFixed(0)} s (${row.throttled} × 429 of ${row.requests} requests, ${row.failed} failed)`);
		return { ...stamp, jobMs: JOB_MS, jitterMs: JITTER_MS, rows: [row] };
	} finally {
		restoreConsole();
		await sim.stop();
	}
}
