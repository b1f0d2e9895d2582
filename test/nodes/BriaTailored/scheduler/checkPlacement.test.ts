/*
 * Where status checks go when the organization's checks are scarce (issue 8, follow-up): a fake
 * clock (jest's timers, which the budget's sleep runs on) and an in-memory Bria whose jobs finish
 * at set times, so every check's moment is exact.
 */
import type { IExecuteFunctions } from 'n8n-workflow';

import type { JobSpec } from '../../../../nodes/BriaTailored/actions/types';
import { JobScheduler } from '../../../../nodes/BriaTailored/scheduler/JobScheduler';
import { organizationBudget, WINDOW_MS } from '../../../../nodes/BriaTailored/scheduler/Pacer';
import { useFakeBudgetClock } from '../../../harness/fakeBudgetClock';

const BASE_URL = 'https://bria.example';

/**
 * An in-memory Bria: job n finishes `durationsMs[n]` after its submit; counts per endpoint. With
 * `perMinute`, each endpoint takes that many requests in any 60 s and answers 429 beyond.
 */
function fakeBria(durationsMs: number[], perMinute = 0) {
	const finishAt = new Map<string, number>();
	const checks: Array<{ id: string; at: number; done: boolean }> = [];
	const accepted = { POST: [] as number[], GET: [] as number[] };
	let throttled = 0;
	let submitted = 0;
	const ctx = {
		getNode: () => ({ name: 'Bria Tailored', type: 'n8n-nodes-bria.briaTailored', typeVersion: 1, position: [0, 0], parameters: {} }),
		getExecutionCancelSignal: () => undefined,
		helpers: {
			httpRequestWithAuthentication: async (_type: string, options: { method: 'POST' | 'GET'; url: string }) => {
				if (perMinute) {
					const window = accepted[options.method];
					while (window.length && window[0] <= Date.now() - WINDOW_MS) window.shift();
					if (window.length >= perMinute) {
						throttled++;
						const retryAfterS = Math.ceil((window[0] + WINDOW_MS - Date.now()) / 1000);
						return { statusCode: 429, headers: { 'retry-after': String(retryAfterS) }, body: { error: { code: 429, message: 'Too many requests' } } };
					}
					window.push(Date.now());
				}
				if (options.method === 'POST') {
					const id = `job-${submitted}`;
					finishAt.set(id, Date.now() + durationsMs[submitted++]);
					return { statusCode: 202, headers: {}, body: { request_id: id, status_url: `${BASE_URL}/v2/status/${id}` } };
				}
				const id = options.url.split('/').pop()!;
				const done = Date.now() >= finishAt.get(id)!;
				checks.push({ id, at: Date.now(), done });
				return { statusCode: 200, headers: {}, body: done ? { request_id: id, status: 'COMPLETED', result: { image_url: 'https://x/y.png' } } : { request_id: id, status: 'IN_PROGRESS' } };
			},
		},
	} as unknown as IExecuteFunctions;
	return { ctx, checks, throttled: () => throttled };
}

const job = (): JobSpec => ({
	submit: { path: '/v2/image/generate/tailored', body: { prompt: 'A lamp', tailored_model_id: 7 } },
	expects: 'image',
	waitForCompletion: true,
	maxWaitMs: 900_000,
	download: false,
	binaryPropertyName: 'data',
});

/** Runs `count` single-item executions at once (each its own scheduler, as n8n runs them); returns when each answered. */
async function burst(durationsMs: number[], plan: number, advanceMs: number, briaPerMinute = 0) {
	const bria = fakeBria(durationsMs, briaPerMinute);
	const budget = organizationBudget(BASE_URL, 'token', plan);
	const answers = durationsMs.map(async () => {
		const scheduler = new JobScheduler(bria.ctx, BASE_URL, { concurrency: 1, requestsPerMinute: 0 }, budget);
		await scheduler.forEach(1, async () => await scheduler.run(job(), { slot: 0, itemIndex: 0, variant: 0 }, Date.now() + 900_000), false);
		return Date.now();
	});
	await jest.advanceTimersByTimeAsync(advanceMs);
	return { answers: await Promise.all(answers), checks: bria.checks, throttled: bria.throttled() };
}

describe('status checks under a scarce budget', () => {
	useFakeBudgetClock();

	test('plan 10, ten 5 s jobs at once (nothing learned): one check each, near the expected finish, so all answer within 2 × job time', async () => {
		const { answers, checks } = await burst(Array(10).fill(5_000), 10, 3 * WINDOW_MS);
		expect(checks).toHaveLength(10);
		expect(checks.every((check) => check.done && check.at >= 5_000 && check.at <= 7_000)).toBe(true);
		expect(Math.max(...answers)).toBeLessThanOrEqual(7_000);
	});

	test('no plan stated, Bria at 10/min, twenty 5 s jobs at once: the jobs outnumber the status lane\'s floor, so its 10 checks go where the jobs are done, and the second ten need only the next window', async () => {
		const { answers, checks, throttled } = await burst(Array(20).fill(5_000), 0, 4 * WINDOW_MS, 10);
		// Each job checked once, after it finished (before: ten checks at 1.5 s, all running, and the
		// status lane's window spent, so the second ten waited two windows: 123 s in the bench).
		expect(checks).toHaveLength(20);
		expect(checks.every((check) => check.done)).toBe(true);
		expect(Math.max(...answers)).toBeLessThanOrEqual(WINDOW_MS + 10_000);
		// The submit lane's one probe past 10, and at most one on the status lane.
		expect(throttled).toBeLessThanOrEqual(2);
	});

	test('no plan stated, Bria unlimited: once the submits have proven more than the jobs, checks are plentiful (the cadence from 1.5 s)', async () => {
		const { checks } = await burst(Array(20).fill(5_000), 0, 2 * WINDOW_MS);
		expect(Math.min(...checks.map((check) => check.at))).toBeLessThanOrEqual(2_000);
		expect(checks.every((check) => !check.done || check.at <= 7_000)).toBe(true);
	});

	test('plan 60, twenty jobs: a job still running when the others are found done is checked again at the cadence, not after a twentieth of the window each', async () => {
		const durations = [...Array(19).fill(5_000), 9_000];
		const { answers, checks } = await burst(durations, 60, 3 * WINDOW_MS);
		// The slow job: running at its first check, then checked about every 2 s, as the others are done.
		const slow = checks.filter((check) => check.id === 'job-19');
		expect(slow.length).toBeGreaterThanOrEqual(2);
		expect(slow.at(-1)!.at - 9_000).toBeLessThanOrEqual(2_000);
		expect(Math.max(...answers)).toBeLessThanOrEqual(11_000);
		expect(checks.length).toBeLessThanOrEqual(60);
	});

	test('plan 60, twenty 5 s jobs at once: one job polls to learn the kind (a scout), the others are checked once it is learned, so the window is not spent', async () => {
		const durations = Array.from({ length: 20 }, (_, n) => 4_500 + 50 * n);
		const { answers, checks } = await burst(durations, 60, 3 * WINDOW_MS);
		expect(checks.length).toBeLessThanOrEqual(30);
		// Every job is noticed within the cadence of the moment it finished.
		for (const [n, duration] of durations.entries()) {
			const found = checks.find((check) => check.id === `job-${n}` && check.done)!;
			expect(found.at - duration).toBeLessThanOrEqual(2_000);
		}
		expect(Math.max(...answers)).toBeLessThanOrEqual(7_500);
	});

	/** One execution of 20 items of 5 s jobs on a 10/min plan at `concurrency`: when it ended, and the checks Bria saw. */
	async function twentyItems(concurrency: number) {
		const bria = fakeBria(Array(20).fill(5_000));
		const scheduler = new JobScheduler(bria.ctx, BASE_URL, { concurrency, requestsPerMinute: 0 }, organizationBudget(BASE_URL, 'token', 10));
		let endedAt = 0;
		const run = scheduler.forEach(20, async (itemIndex) => await scheduler.run(job(), { slot: itemIndex, itemIndex, variant: 0 }, Date.now() + 900_000), false).then((results) => {
			endedAt = Date.now();
			return results;
		});
		await jest.advanceTimersByTimeAsync(5 * WINDOW_MS);
		expect((await run).every((result) => result && 'value' in result)).toBe(true);
		return { endedAt, checks: bria.checks };
	}

	test('plan 10, one execution of 20 items at concurrency 5: no check is spent beyond one per job while items wait, so the run ends about a window after the first', async () => {
		const { endedAt, checks } = await twentyItems(5);
		expect(checks).toHaveLength(20);
		// Ten submits a window, five at a time: the last five go a window after the second five
		// (about 6 s in), and are checked once, about a job later. A check spent twice would wait a window more.
		expect(endedAt).toBeLessThanOrEqual(WINDOW_MS + 15_000);
	});

	test('plan 10, one execution of 20 items at default settings (all start at once): ten submits a window, one check per job, two windows and a job', async () => {
		const { endedAt, checks } = await twentyItems(0);
		expect(checks).toHaveLength(20);
		expect(endedAt).toBeLessThanOrEqual(WINDOW_MS + 10_000);
	});
});
