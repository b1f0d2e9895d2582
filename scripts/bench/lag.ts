/**
 * Status checks per job and completion-detection lag, for 30 jobs of 2 s, 10 s or 30 s (one
 * variant each, in its own fresh process, side by side), the rate unconstrained. Each variant
 * runs the same 30 jobs twice in one process: a first run, when the node has learned nothing,
 * then again once it has seen how long such jobs take.
 * Lag = arrival (at the simulator) of the status call that first reported COMPLETED, minus the
 * moment the job completed there (createdAt + duration). Durations are spread evenly over ± 10 %
 * around the nominal time, as real jobs vary, so the figures are reproducible rather than luck.
 */
import { runBriaNode } from '../../test/harness/runNode';
import { buildStamp, readyThenWait, failedItems, generateImages, inputItems, keepConsole, mean, percentile, progress } from './common';
import { SimProcess } from './simClient';
import type { LagResult, LagRow, SimLog } from './types';

const JOBS = 30;
/** Durations span ± 10 % of the job time. */
const spreadFor = (jobMs: number) => jobMs / 5;

export const LAG_VARIANTS: Record<string, number> = { '2s': 2_000, '10s': 10_000, '30s': 30_000 };

function spreadDurations(jobMs: number): number[] {
	const spreadMs = spreadFor(jobMs);
	return Array.from({ length: JOBS }, (_, i) => Math.round(jobMs - spreadMs / 2 + (spreadMs * i) / (JOBS - 1)));
}

function lagRow(jobMs: number, phase: LagRow['phase'], log: SimLog, prompt: string, failed: number, wallMs: number): LagRow {
	const calls: number[] = [];
	const lags: number[] = [];
	const gaps: number[] = [];
	let overBound = 0;
	const jobs = log.jobs.filter((job) => job.prompt === prompt);
	for (const job of jobs) {
		const statusCalls = log.entries.filter((entry) => entry.route === 'status' && entry.requestId === job.id);
		calls.push(statusCalls.length);
		for (let i = 1; i < statusCalls.length; i++) gaps.push(statusCalls[i].at - statusCalls[i - 1].at);
		if (statusCalls.length > job.durationMs / 1000 / 2 + 2) overBound++;
		const detected = statusCalls.find((entry) => entry.jobStatus === 'COMPLETED');
		if (detected) lags.push(Math.max(0, detected.at - (job.createdAt + job.durationMs)));
	}
	return {
		jobMs,
		phase,
		jobs: jobs.length,
		spreadMs: spreadFor(jobMs),
		failed,
		wallMs,
		callsMean: mean(calls),
		callsMax: Math.max(...calls),
		callsOverBound: overBound,
		lagP50Ms: percentile(lags, 50),
		lagP95Ms: percentile(lags, 95),
		lagMaxMs: Math.max(...lags),
		gapMeanMs: mean(gaps),
		gapMaxMs: Math.max(...gaps),
	};
}

export async function measureLag(variant: string): Promise<LagResult> {
	const jobMs = LAG_VARIANTS[variant];
	if (!jobMs) throw new Error(`lag: unknown variant "${variant}" (${Object.keys(LAG_VARIANTS).join(', ')})`);
	const stamp = buildStamp();
	const sim = await SimProcess.start({ jobMs });
	const restoreConsole = keepConsole();
	try {
		await readyThenWait();
		const rows: LagRow[] = [];
		for (const phase of ['first run', 'learned'] as const) {
			// The same spread of durations each time, taken in submit order.
			await sim.plan(spreadDurations(jobMs).map((durationMs) => ({ durationMs })));
			const prompt = `bench lag ${variant} ${phase}`;
			const result = await runBriaNode({
				credentials: sim.credentials,
				items: inputItems(JOBS),
				continueOnFail: true,
				cancelAfterMs: jobMs * 1.1 + 2 * 60_000,
				// Every job in flight at once: the schedule per job is what is measured, not the pool.
				parameters: generateImages(prompt, { downloadImage: false, concurrency: JOBS }),
			});
			rows.push(lagRow(jobMs, phase, await sim.log(), prompt, failedItems(result, JOBS), result.durationMs));
			progress(`lag ${variant} ${phase}: done in ${(result.durationMs / 1000).toFixed(1)} s, ${rows[rows.length - 1].callsMean.toFixed(2)} checks per job`);
		}
		return { ...stamp, concurrency: JOBS, rows };
	} finally {
		restoreConsole();
		await sim.stop();
	}
}
