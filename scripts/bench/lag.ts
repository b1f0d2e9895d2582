/**
 * Part 2: status calls per job and completion-detection lag for 2 s, 10 s and 30 s jobs.
 * Lag = arrival (at the simulator) of the status call that first reported COMPLETED, minus the
 * moment the job completed there (createdAt + duration). Durations are spread evenly over
 * ±10 % (at least ±1.5 s) around the nominal time, as real jobs vary, so completions fall at every
 * phase of the poll schedule and the percentiles are reproducible rather than luck of a draw.
 */
import { runBriaNode } from '../../test/harness/runNode';
import { failedItems, generateImages, inputItems, keepConsole, mean, percentile, progress } from './common';
import { SimProcess } from './simClient';
import type { LagResult, LagRow } from './types';

const DURATIONS_MS = [2_000, 10_000, 30_000];
const JOBS = 30;
/** Spread of durations: ±10 % of the job time, at least ±1.5 s (wider than any poll interval). */
const spreadFor = (jobMs: number) => Math.max(3_000, jobMs / 5);

async function measureDuration(jobMs: number): Promise<LagRow> {
	const spreadMs = spreadFor(jobMs);
	const sim = await SimProcess.start({ jobMs });
	try {
		await sim.plan(
			Array.from({ length: JOBS }, (_, i) => ({ durationMs: Math.round(jobMs - spreadMs / 2 + (spreadMs * i) / (JOBS - 1)) })),
		);
		const result = await runBriaNode({
			credentials: sim.credentials,
			items: inputItems(JOBS),
			continueOnFail: true,
			cancelAfterMs: jobMs + spreadMs + 2 * 60_000,
			// Every job in flight at once: the schedule per job is what is measured, not the pool.
			parameters: generateImages(`bench lag ${jobMs}`, { downloadImage: false, concurrency: JOBS }),
		});
		const log = await sim.log();
		const calls: number[] = [];
		const lags: number[] = [];
		const gaps: number[] = [];
		let overBound = 0;
		for (const job of log.jobs) {
			const statusCalls = log.entries.filter((entry) => entry.route === 'status' && entry.requestId === job.id);
			calls.push(statusCalls.length);
			for (let i = 1; i < statusCalls.length; i++) gaps.push(statusCalls[i].at - statusCalls[i - 1].at);
			if (statusCalls.length > job.durationMs / 1000 / 2 + 2) overBound++;
			const detected = statusCalls.find((entry) => entry.jobStatus === 'COMPLETED');
			if (detected) lags.push(Math.max(0, detected.at - (job.createdAt + job.durationMs)));
		}
		progress(`lag: ${jobMs / 1000} s jobs done in ${(result.durationMs / 1000).toFixed(1)} s`);
		return {
			jobMs,
			jobs: log.jobs.length,
			spreadMs,
			failed: failedItems(result, JOBS),
			wallMs: result.durationMs,
			callsMean: mean(calls),
			callsMax: Math.max(...calls),
			callsOverBound: overBound,
			lagP50Ms: percentile(lags, 50),
			lagP95Ms: percentile(lags, 95),
			lagMaxMs: Math.max(...lags),
			gapMeanMs: mean(gaps),
			gapMaxMs: Math.max(...gaps),
		};
	} finally {
		await sim.stop();
	}
}

export async function measureLag(): Promise<LagResult> {
	progress(`lag: ${JOBS} jobs each of ${DURATIONS_MS.map((ms) => `${ms / 1000} s`).join(', ')}, side by side (~${Math.round((DURATIONS_MS[DURATIONS_MS.length - 1] * 1.1) / 1000 + 5)} s)`);
	const restoreConsole = keepConsole();
	try {
		return { concurrency: JOBS, rows: await Promise.all(DURATIONS_MS.map(measureDuration)) };
	} finally {
		restoreConsole();
	}
}
