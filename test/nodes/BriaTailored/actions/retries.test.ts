import { imageParameters, useSimulator } from '../../../harness/fixtures';
import { runBriaNode } from '../../../harness/runNode';

/*
 * n8n's own retries never bill an accepted job twice (docs/SCHEDULER.md, rule 10). With the node
 * setting Retry On Fail, n8n-core runs the node's whole execute() again, with the same input, in the
 * same execution and under the same run index: after a throw, and with Continue On Fail also when
 * the first output item carries `json.error`. Items whose jobs Bria accepted continue those jobs;
 * items whose jobs failed are what the retry is for and go again. Submits are counted per item
 * (each item has its own prompt) at the simulator.
 *
 * The editor saves the settings on the node as `retryOnFail: true, maxTries: 3, waitBetweenTries: 0`;
 * n8n-core then waits its default 1 s between tries.
 */

const bria = useSimulator();

const FAILS = 'A poster that fails';

/** Every job of `prompt` ends ERROR (the first `times` of them, when given). */
function failing(prompt: string, times?: number) {
	bria.sim.planWhen((body) => body.prompt === prompt, { outcome: 'ERROR', error: { code: 500, message: 'Generation failed', details: 'GPU fell over' } }, times);
}

function submitted(prompt: string): string[] {
	return bria.sim
		.submits()
		.filter((entry) => (entry.body as { prompt?: string }).prompt === prompt)
		.map((entry) => String(entry.requestId));
}

const byPrompt = (prompts: string[], options: Record<string, unknown> = {}) => ({
	items: prompts.map((p) => ({ json: { p } })),
	parameters: imageParameters({ inputMode: 'prompt', prompt: '={{ $json.p }}', options: { downloadImage: false, ...options } }),
});

const retry = { retryOnFail: true, maxTries: 3, waitBetweenTries: 0 };

describe('Retry On Fail (Max Tries 3) on a batch where one job ends ERROR', () => {
	test('without Continue On Fail: the accepted jobs are submitted once, the failed one 3 times; the error names them all', async () => {
		failing(FAILS);
		const result = await runBriaNode({ credentials: bria.credentials, ...retry, ...byPrompt(['A teal kettle', FAILS, 'An orange clock']) });

		expect(submitted('A teal kettle')).toHaveLength(1);
		expect(submitted('An orange clock')).toHaveLength(1);
		const failedJobs = submitted(FAILS);
		expect(failedJobs).toHaveLength(3);
		expect(new Set(failedJobs).size).toBe(3);
		expect(failedJobs.map((id) => bria.sim.jobs.get(id)?.outcome)).toEqual(['ERROR', 'ERROR', 'ERROR']);

		// The last try's error: its own job, and the two finished jobs of the other items, once each.
		expect(result.error?.message).toBe(`Bria could not complete request ${failedJobs[2]}: Generation failed`);
		expect(result.error?.context?.requestId).toBe(failedJobs[2]);
		expect(result.error?.description).toContain(`item 0 → ${submitted('A teal kettle')[0]}`);
		expect(result.error?.description).toContain(`item 2 → ${submitted('An orange clock')[0]}`);
	});

	test('with Continue On Fail (regular output): n8n re-runs while the first item is an error item; only that item is submitted again', async () => {
		failing(FAILS);
		const result = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, ...retry, ...byPrompt([FAILS, 'A teal kettle', 'An orange clock']) });

		const failedJobs = submitted(FAILS);
		expect(failedJobs).toHaveLength(3);
		expect(submitted('A teal kettle')).toHaveLength(1);
		expect(submitted('An orange clock')).toHaveLength(1);
		expect(result.error).toBeUndefined();
		expect(result.items.map((item) => [item.pairedItem, item.json.request_id, item.json.status ?? 'error'])).toEqual([
			[{ item: 0 }, failedJobs[2], 'error'],
			[{ item: 1 }, submitted('A teal kettle')[0], 'COMPLETED'],
			[{ item: 2 }, submitted('An orange clock')[0], 'COMPLETED'],
		]);
		expect(result.items[0].json.error).toContain('Generation failed');
	});

	test('with Continue On Fail (error output): the same; the failed item leaves by the error output', async () => {
		failing(FAILS);
		const result = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			onError: 'continueErrorOutput',
			...retry,
			...byPrompt([FAILS, 'A teal kettle', 'An orange clock']),
		});

		const failedJobs = submitted(FAILS);
		expect(failedJobs).toHaveLength(3);
		expect(submitted('A teal kettle')).toHaveLength(1);
		expect(submitted('An orange clock')).toHaveLength(1);
		expect(result.items.map((item) => [item.pairedItem, item.json.request_id])).toEqual([
			[{ item: 1 }, submitted('A teal kettle')[0]],
			[{ item: 2 }, submitted('An orange clock')[0]],
		]);
		expect(result.errorOutput).toHaveLength(1);
		expect(result.errorOutput[0].pairedItem).toEqual({ item: 0 });
		expect(result.errorOutput[0].json.error).toMatchObject({ request_id: failedJobs[2], message: expect.stringContaining('Generation failed') });
	});

	test('with Continue On Fail, a failed item that is not the first: n8n does not re-run the node (its rule), every job once', async () => {
		failing(FAILS);
		const result = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, ...retry, ...byPrompt(['A teal kettle', FAILS]) });
		expect(submitted('A teal kettle')).toHaveLength(1);
		expect(submitted(FAILS)).toHaveLength(1);
		expect(result.items[1].json).toMatchObject({ request_id: submitted(FAILS)[0], error: expect.stringContaining('Generation failed') });
	});
});

describe('what a retry continues, and what it does not', () => {
	test('a loop (the node\'s next run in the same execution) makes new jobs: it never reuses an earlier run\'s', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, nodeRuns: 2, ...byPrompt(['A teal kettle', 'An orange clock']) });
		expect(result.nodeRuns).toHaveLength(2);
		const [first, second] = result.nodeRuns.map((run) => run.items.map((item) => item.json.request_id));
		expect(submitted('A teal kettle').sort()).toEqual([first[0], second[0]].sort());
		expect(submitted('An orange clock').sort()).toEqual([first[1], second[1]].sort());
		expect(new Set([...first, ...second]).size).toBe(4);
	});

	test('another execution with the same input makes new jobs (the execution id is part of the key)', async () => {
		await runBriaNode({ credentials: bria.credentials, ...byPrompt(['A teal kettle']) });
		await runBriaNode({ credentials: bria.credentials, ...byPrompt(['A teal kettle']) });
		expect(submitted('A teal kettle')).toHaveLength(2);
	});

	test('a job still running when the retry comes (its Max Wait Time ran out) is continued, not submitted again', async () => {
		// Item 0's job takes 4.5 s and Max Wait Time is 3 s: the first try gives up on it (and item 1
		// failed); the retry, a second later, finds it still running and waits for it.
		bria.sim.planWhen((body) => body.prompt === 'A slow kettle', { durationMs: 4_500 });
		failing(FAILS, 1);
		const result = await runBriaNode({
			credentials: bria.credentials,
			retryOnFail: true,
			maxTries: 2,
			waitBetweenTries: 0,
			...byPrompt(['A slow kettle', FAILS], { maxWaitTime: 3 }),
		});

		const slow = submitted('A slow kettle');
		expect(slow).toHaveLength(1);
		expect(submitted(FAILS)).toHaveLength(2);
		expect(result.error).toBeUndefined();
		expect(result.items.map((item) => [item.pairedItem, item.json.request_id, item.json.status])).toEqual([
			[{ item: 0 }, slow[0], 'COMPLETED'],
			[{ item: 1 }, submitted(FAILS)[1], 'COMPLETED'],
		]);
		// The retry saw it still running: it was not done when the first try gave up.
		const checks = bria.sim.requests('status').filter((entry) => entry.requestId === slow[0]).map((entry) => entry.jobStatus);
		expect(checks).toContain('IN_PROGRESS');
		expect(checks[checks.length - 1]).toBe('COMPLETED');
	}, 30_000);

	test('Wait for Completion off: the retry returns the same request_id instead of a new job', async () => {
		// Item 0 is refused by moderation on every try (422: no job); item 1's job is accepted once.
		const result = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			...retry,
			items: [{ json: { p: 'A forbidden poster' } }, { json: { p: 'A teal kettle' } }],
			parameters: imageParameters({ inputMode: 'prompt', prompt: '={{ $json.p }}', waitForCompletion: false, options: { downloadImage: false } }),
		});
		expect(bria.sim.requests('submitImage').filter((entry) => entry.status === 422)).toHaveLength(3);
		const accepted = submitted('A teal kettle');
		expect(accepted).toHaveLength(1);
		expect(result.items[0].json.error).toContain('HTTP 422');
		expect(result.items[1].json.request_id).toBe(accepted[0]);
		expect(result.items[1].pairedItem).toEqual({ item: 1 });
	});

	test('Images per Item: each of an item\'s jobs is continued as itself (its variant), only the failed one goes again', async () => {
		// Seed 7: jobs 7, 8, 9; the one with seed 8 fails once.
		bria.sim.planWhen((body) => body.seed === 8, { outcome: 'ERROR' }, 1);
		const result = await runBriaNode({ credentials: bria.credentials, ...retry, ...byPrompt(['A teal kettle'], { imagesPerItem: 3, seed: 7 }) });
		expect(result.error).toBeUndefined();
		const seeds = bria.sim.submits().map((entry) => (entry.body as { seed: number }).seed);
		expect(seeds.sort()).toEqual([7, 8, 8, 9]);
		expect(result.items.map((item) => item.json.seed)).toEqual([7, 8, 9]);
		const bySeed = (seed: number) => bria.sim.submits().filter((entry) => (entry.body as { seed: number }).seed === seed).map((entry) => entry.requestId);
		expect(result.items.map((item) => item.json.request_id)).toEqual([bySeed(7)[0], bySeed(8)[1], bySeed(9)[0]]);
	});
});

describe('a submit whose answer was lost is never sent again, by n8n\'s Retry On Fail neither', () => {
	test.each([
		['the connection drops halfway through the answer (Bria created the job)', { kind: 'truncate' as const }],
		['the connection is reset', { kind: 'reset' as const }],
	])('%s: one submit for that item across all tries; the error says why', async (_name, fault) => {
		const LOST = 'A lamp whose answer is lost';
		bria.sim.inject('submitImage', fault, 1, (entry) => (entry.body as { prompt?: string }).prompt === LOST);
		const result = await runBriaNode({ credentials: bria.credentials, ...retry, ...byPrompt(['A teal kettle', LOST]) });
		// Counted as Bria received them (a reset submit has no answer, so no request_id).
		expect(bria.sim.requests('submitImage').filter((entry) => (entry.body as { prompt?: string }).prompt === LOST)).toHaveLength(1);
		expect(submitted('A teal kettle')).toHaveLength(1);
		expect(result.error?.message).toMatch(/^Not submitted again: an earlier try of this node in this execution lost the answer to its submit/);
		expect(result.error?.description).toContain('Retry On Fail');
	});
});
