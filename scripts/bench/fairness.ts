/**
 * Fairness under a stream of new work: plan 10/min stated on the credential, the simulator
 * allowing 10 per endpoint per minute, 5 s jobs varying ± 10 %, downloads off, default settings.
 * One execution of 20 items starts; then a single-item execution starts every 5 s (12 a minute:
 * 120 % of the plan, overload) or every 7.5 s (8 a minute: 80 %) for 4 minutes, all in one
 * process (one organization budget), each its own execution in n8n's real engine. Reported:
 * whether every execution completed, the turns (requests the simulator accepted) the batch and
 * the singles received in each 60 s window, and the singles' answer times. Everything still
 * running at the cap (10 min from the start) is stopped and counts as failed.
 */
import { runBriaNode } from '../../test/harness/runNode';
import type { RunResult } from '../../test/harness/runNode';
import { endLoad, errorMessages, failedItems, generateImages, generationStamp, inputItems, keepConsole, percentile, progress, readyThenWait, requestCounts, sleep, withPlan } from './common';
import { arrivalWallLimitMs } from './limits';
import { SimProcess } from './simClient';
import type { FairnessResult, FairnessRow, SimLog, WindowTurns } from './types';

const PER_MINUTE = 10;
const BATCH_ITEMS = 20;
const JOB_MS = 5_000;
const JITTER_MS = JOB_MS / 10;
const STREAM_MS = 4 * 60_000;
const CAP_MS = 10 * 60_000;
const BATCH_PROMPT = 'bench fairness batch';
const SINGLE_PROMPT = 'bench fairness single';

export const FAIRNESS_VARIANTS: Record<string, { intervalMs: number }> = {
	overload: { intervalMs: 5_000 },
	under: { intervalMs: 7_500 },
};

/** Accepted requests of the batch and of the singles, per 60 s window from the first request. */
function turnsPerWindow(log: SimLog): WindowTurns[] {
	const promptOf = new Map(log.jobs.map((job) => [job.id, job.prompt ?? '']));
	const api = log.entries.filter((entry) => entry.host === 'api');
	const firstAt = api[0]?.at ?? 0;
	const windows: WindowTurns[] = [];
	for (const entry of api) {
		if (entry.status === 429 || !entry.requestId) continue;
		const prompt = promptOf.get(entry.requestId);
		if (prompt === undefined) continue;
		const index = Math.floor((entry.at - firstAt) / 60_000);
		while (windows.length <= index) windows.push({ window: windows.length, batchSubmits: 0, batchChecks: 0, singleSubmits: 0, singleChecks: 0 });
		const window = windows[index];
		const batch = prompt === BATCH_PROMPT;
		if (entry.route === 'status') {
			if (batch) window.batchChecks++;
			else window.singleChecks++;
		} else if (entry.route === 'submitImage') {
			if (batch) window.batchSubmits++;
			else window.singleSubmits++;
		}
	}
	return windows;
}

export async function measureFairness(variant: string): Promise<FairnessResult> {
	const chosen = FAIRNESS_VARIANTS[variant];
	if (!chosen) throw new Error(`fairness: unknown variant "${variant}" (${Object.keys(FAIRNESS_VARIANTS).join(', ')})`);
	const { intervalMs } = chosen;
	const singles = Math.floor(STREAM_MS / intervalMs);
	const offeredShare = 60_000 / intervalMs / PER_MINUTE;
	let stamp = generationStamp();
	progress(
		`fairness ${variant}: a ${BATCH_ITEMS}-item execution, then one single-item execution every ${intervalMs / 1000} s for ${STREAM_MS / 60_000} min (${Math.round(offeredShare * 100)} % of the ${PER_MINUTE}/min plan; ${stamp.generation}; capped at ${CAP_MS / 60_000} min)`,
	);
	const sim = await SimProcess.start({ jobMs: JOB_MS, jitterMs: JITTER_MS, rateLimitPerMinute: PER_MINUTE, retryAfterHeader: true });
	const restoreConsole = keepConsole();
	try {
		await readyThenWait();
		const { credentials, options, place } = withPlan(sim.credentials, PER_MINUTE);
		stamp = generationStamp();
		const started = Date.now();
		const left = () => Math.max(1, started + CAP_MS - Date.now());
		const batch = runBriaNode({
			credentials,
			items: inputItems(BATCH_ITEMS),
			continueOnFail: true,
			cancelAfterMs: left(),
			parameters: generateImages(BATCH_PROMPT, { downloadImage: false, ...options }),
		}).then((run) => ({ run, endedAt: Date.now() }));
		const stream: Array<Promise<{ run: RunResult; startedAt: number; endedAt: number }>> = [];
		for (let k = 1; k <= singles; k++) {
			await sleep(started + k * intervalMs - Date.now());
			const startedAt = Date.now();
			stream.push(
				runBriaNode({
					credentials,
					items: [{ json: { k } }],
					continueOnFail: true,
					cancelAfterMs: left(),
					parameters: generateImages(`${SINGLE_PROMPT} ${k}`, { downloadImage: false, ...options }),
				}).then((run) => ({ run, startedAt, endedAt: Date.now() })),
			);
		}
		const batchDone = await batch;
		const singlesDone = await Promise.all(stream);
		const wallMs = Math.max(batchDone.endedAt, ...singlesDone.map((single) => single.endedAt)) - started;
		const log = await sim.log();
		const durationOf = new Map(log.jobs.map((job) => [job.prompt ?? '', job.durationMs]));
		const batchDurations = log.jobs.filter((job) => job.prompt === BATCH_PROMPT).map((job) => job.durationMs);
		const singleDurations = Array.from({ length: singles }, (_, index) => durationOf.get(`${SINGLE_PROMPT} ${index + 1}`) ?? JOB_MS);
		const arrivals = [...Array(BATCH_ITEMS).fill(0), ...Array.from({ length: singles }, (_, index) => (index + 1) * intervalMs)];
		const durations = [...batchDurations, ...Array(Math.max(0, BATCH_ITEMS - batchDurations.length)).fill(JOB_MS), ...singleDurations];
		const answered = singlesDone.filter((single) => !failedItems(single.run, 1)).map((single) => single.endedAt - single.startedAt);
		const row: FairnessRow = {
			...endLoad(stamp),
			variant,
			perMinute: PER_MINUTE,
			plan: place,
			jobMs: JOB_MS,
			jitterMs: JITTER_MS,
			batchItems: BATCH_ITEMS,
			intervalMs,
			streamMs: STREAM_MS,
			singles,
			offeredShare,
			capMs: CAP_MS,
			stoppedAtCap: wallMs >= CAP_MS,
			batchFailed: failedItems(batchDone.run, BATCH_ITEMS),
			singlesFailed: singlesDone.reduce((sum, single) => sum + failedItems(single.run, 1), 0),
			wallMs,
			limitMs: arrivalWallLimitMs(arrivals, durations, PER_MINUTE),
			windows: turnsPerWindow(log),
			singlesAnswerP50Ms: percentile(answered, 50),
			singlesAnswerP95Ms: percentile(answered, 95),
			singlesDurationP50Ms: percentile(singleDurations, 50),
			singlesDurationP95Ms: percentile(singleDurations, 95),
			...requestCounts(log),
			errors: [...new Set([batchDone.run, ...singlesDone.map((single) => single.run)].flatMap((run) => errorMessages(run)))].slice(0, 3),
		};
		progress(
			`fairness ${variant}: done in ${(wallMs / 1000).toFixed(0)} s (batch ${row.batchFailed}/${BATCH_ITEMS} failed, singles ${row.singlesFailed}/${singles} failed, batch turns per window ${row.windows.map((w) => w.batchSubmits + w.batchChecks).join(' ')})`,
		);
		return { rows: [row] };
	} finally {
		restoreConsole();
		await sim.stop();
	}
}
