/**
 * Part 1: N items of 5 s jobs at concurrency 1 (sequential), the node's default and 20, all runs
 * side by side in one process against one simulator (no rate limit: runs do not interact).
 */
import { option } from '../../nodes/BriaTailored/actions/shared/fields';
import { runBriaNode } from '../../test/harness/runNode';
import { failedItems, generateImages, inputItems, keepConsole, progress } from './common';
import { SimProcess } from './simClient';
import type { ConcurrencyResult, ConcurrencyRun } from './types';

const JOB_MS = 5_000;
const SIZES = [1, 10, 20, 50];
const HIGH = 20;
/** Inner bound of each run (the worker has an outer one). */
const RUN_LIMIT_MS = 8 * 60_000;

export async function measureConcurrency(full: boolean): Promise<ConcurrencyResult> {
	const defaultConcurrency = Number(option.concurrency.default);
	// `set: false` leaves the option out, so "default" measures whatever the node's default is.
	const levels = [
		{ level: 'sequential' as const, concurrency: 1, set: true },
		{ level: 'default' as const, concurrency: defaultConcurrency, set: false },
		{ level: 'high' as const, concurrency: HIGH, set: true },
	];
	// Sequential × 50 alone takes over 4 minutes: extrapolated unless BENCH_FULL=1.
	const plan = levels.flatMap((level) =>
		SIZES.filter((items) => full || level.level !== 'sequential' || items < 50).map((items) => ({ ...level, items })),
	);
	const sim = await SimProcess.start({ jobMs: JOB_MS });
	const restoreConsole = keepConsole();
	try {
		progress(`concurrency: ${plan.length} runs side by side, ${JOB_MS / 1000} s jobs (the longest: sequential × ${full ? 50 : 20})`);
		const outcomes = await Promise.all(
			plan.map(async (run) => {
				// The prompt tags the run's jobs in the simulator's log.
				const prompt = `bench concurrency ${run.level} ${run.items}`;
				const result = await runBriaNode({
					credentials: sim.credentials,
					items: inputItems(run.items),
					continueOnFail: true,
					cancelAfterMs: RUN_LIMIT_MS,
					parameters: generateImages(prompt, { downloadImage: false, ...(run.set ? { concurrency: run.concurrency } : {}) }),
				});
				progress(`concurrency: ${run.level} (${run.concurrency}) × ${run.items} done in ${(result.durationMs / 1000).toFixed(1)} s`);
				return { run, prompt, result };
			}),
		);
		restoreConsole();
		const log = await sim.log();
		const runs: ConcurrencyRun[] = outcomes.map(({ run, prompt, result }) => {
			const ids = new Set(log.jobs.filter((job) => job.prompt === prompt).map((job) => job.id));
			const statusCalls = log.entries.filter((entry) => entry.route === 'status' && entry.requestId && ids.has(entry.requestId)).length;
			return {
				level: run.level,
				concurrency: run.concurrency,
				items: run.items,
				wallMs: result.durationMs,
				measured: true,
				failed: failedItems(result, run.items),
				statusCallsPerJob: ids.size ? statusCalls / ids.size : undefined,
			};
		});
		const sequential = runs.filter((run) => run.level === 'sequential' && run.items > 1).sort((a, b) => b.items - a.items)[0];
		const sequentialPerItemMs = sequential ? sequential.wallMs / sequential.items : NaN;
		if (!full) {
			runs.push({ level: 'sequential', concurrency: 1, items: 50, wallMs: sequentialPerItemMs * 50, measured: false, failed: 0 });
		}
		return { jobMs: JOB_MS, defaultConcurrency, full, sequentialPerItemMs, runs };
	} finally {
		restoreConsole();
		await sim.stop();
	}
}
