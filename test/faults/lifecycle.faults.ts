import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { faults } from '../simulator/BriaSimulator';
import { faultSuite, imageParams, promptItems } from './matrix';

/*
 * Stopping an execution mid-wait, and batches where some items fail. A stop must end the node
 * within 1 s with nothing more sent (the shared runner watches for 2.5 s after it returned);
 * a batch must account for every item and never pay twice.
 */
const suite = faultSuite(__filename);

/** One prompt per item (from its JSON), so every item's request body differs. */
const perItem = (options: IDataObject = {}, parameters: INodeParameters = {}) =>
	imageParams({ prompt: '={{ $json.prompt }}', ...parameters }, options);

describe('cancellation', () => {
	suite.case(
		{
			group: 'cancel',
			name: 'stopped between status checks',
			expected: 'returns within 1 s; nothing sent after; the paid job is named in n8n\'s log',
			parameters: imageParams({}, { maxWaitTime: 60 }),
			// After the first check (1.5 s), before the second (3.45 s).
			cancelAfterMs: 2_500,
			setup: (sim) => sim.planJobs({ outcome: 'NEVER' }),
		},
		({ sim, logs }) => {
			expect(sim.submits()).toHaveLength(1);
			expect(sim.requests('status')).toHaveLength(1);
			// A stopped node's output is gone: the log is where its request_id survives.
			const [requestId] = [...sim.jobs.keys()];
			expect(logs.find((line) => line.includes('the execution was stopped after Bria accepted these jobs'))).toContain(requestId);
		},
	);

	suite.case(
		{
			group: 'cancel',
			name: 'stopped during a status check that never answers',
			expected: 'the open request is abandoned; returns within 1 s',
			parameters: imageParams({}, { maxWaitTime: 60 }),
			cancelAfterMs: 1_600,
			setup: (sim) => sim.inject('status', { kind: 'hang' }),
		},
		({ sim }) => {
			expect(sim.requests('status')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'cancel',
			name: 'stopped while waiting out a submit 429 (Retry-After: 30)',
			expected: 'returns within 1 s; never submits again',
			parameters: imageParams({}, { maxWaitTime: 60 }),
			cancelAfterMs: 800,
			setup: (sim) =>
				sim.inject('submitImage', { kind: 'respond', status: 429, body: { error: { code: 429, message: 'Too Many Requests' } }, headers: { 'Retry-After': '30' } }),
		},
		({ sim }) => {
			expect(sim.requests('submitImage').map((entry) => entry.status)).toEqual([429]);
		},
	);

	suite.case(
		{
			group: 'cancel',
			name: 'stopped during a slow image download',
			expected: 'download abandoned; returns within 1 s',
			parameters: imageParams({}, { maxWaitTime: 60 }),
			cancelAfterMs: 2_000,
			setup: (sim) => sim.planJobs({ imageFault: faults.slowBody(10_000, 50) }),
		},
		({ sim }) => {
			expect(sim.requests('image')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'cancel',
			name: 'stopped in a batch (3 items, one at a time)',
			expected: 'items not started are never submitted',
			parameters: perItem({ maxWaitTime: 60, concurrency: 1 }),
			items: promptItems(3),
			cancelAfterMs: 1_500,
			setup: (sim) => sim.planJobs({ outcome: 'NEVER' }, { outcome: 'NEVER' }, { outcome: 'NEVER' }),
		},
		({ sim }) => {
			expect(sim.requests('submitImage')).toHaveLength(1);
		},
	);
});

describe('batches with failing items', () => {
	suite.case(
		{
			group: 'batch',
			name: '3 items, item 1 blocked (422), Continue On Fail',
			expected: 'ok, error item, ok, each paired to its input',
			parameters: perItem(),
			items: [{ json: { prompt: 'A mug #0' } }, { json: { prompt: 'A forbidden mug #1' } }, { json: { prompt: 'A mug #2' } }],
			continueOnFail: true,
		},
		({ items, sim }) => {
			expect(items.map((item) => item.json.status ?? 'error')).toEqual(['COMPLETED', 'error', 'COMPLETED']);
			expect(items[1].json.error).toBe('Bria\'s content moderation blocked this request (submitting the job, HTTP 422)');
			expect(sim.submits()).toHaveLength(2);
		},
	);

	suite.case(
		{
			group: 'batch',
			name: '3 items, item 1 blocked (422), Continue On Fail off',
			expected: 'node error names item 1 and the paid jobs of items 0 and 2',
			parameters: perItem(),
			items: [{ json: { prompt: 'A mug #0' } }, { json: { prompt: 'A forbidden mug #1' } }, { json: { prompt: 'A mug #2' } }],
		},
		({ error, sim }) => {
			expect(error?.context?.itemIndex).toBe(1);
			const ids = sim.submits().map((entry) => `item ${String((entry.body as { prompt: string }).prompt).slice(-1)} → ${entry.requestId}`);
			expect(ids).toHaveLength(2);
			for (const id of ids) expect(error?.description).toContain(id);
		},
	);

	suite.case(
		{
			group: 'batch',
			name: 'first item fails, one at a time, Continue On Fail off',
			expected: 'stops: later items never submitted (nothing paid)',
			parameters: perItem({ concurrency: 1 }, { model: { __rl: true, mode: 'id', value: '={{ $json.model }}' } }),
			items: [
				{ json: { prompt: 'A mug #0', model: '999' } },
				{ json: { prompt: 'A mug #1', model: '101' } },
				{ json: { prompt: 'A mug #2', model: '101' } },
			],
		},
		({ error, sim }) => {
			expect(error?.context?.itemIndex).toBe(0);
			expect(error?.httpCode).toBe('403');
			expect(sim.requests('submitImage')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'batch',
			name: 'every kind of failure in one batch, Continue On Fail',
			expected: 'ok, 422, 403, invalid input, error: each item accounted for',
			parameters: perItem({}, { model: { __rl: true, mode: 'id', value: '={{ $json.model }}' } }),
			items: [
				{ json: { prompt: 'A mug #0', model: '101' } },
				{ json: { prompt: 'A forbidden mug #1', model: '101' } },
				{ json: { prompt: 'A mug #2', model: '999' } },
				{ json: { prompt: '   ', model: '101' } },
				{ json: { prompt: 'A mug #4', model: '101' } },
			],
			continueOnFail: true,
			// The next image download fails: item 0's or item 4's, whichever job finishes first.
			setup: (sim) => sim.inject('image', { kind: 'respond', status: 404, body: 'gone' }),
		},
		({ items, sim }) => {
			const summary = items.map((item) => (item.json.status as string | undefined) ?? String(item.json.error));
			expect(summary[1]).toMatch(/HTTP 422\)$/);
			expect(summary[2]).toMatch(/HTTP 403\)$/);
			expect(summary[3]).toBe('Invalid input: Prompt: must not be empty');
			// Items 0 and 4 were both accepted; one of their downloads met the injected 404.
			const fates = [summary[0], summary[4]].sort();
			expect(fates).toEqual(['COMPLETED', 'Could not download the result image: the storage host answered HTTP 404']);
			expect(sim.submits()).toHaveLength(2);
			expect(sim.requests('submitImage')).toHaveLength(4);
		},
	);

	suite.case(
		{
			group: 'batch',
			name: 'a bad item among good ones, Continue On Fail off',
			expected: 'node error names the bad item; 0 requests for anyone',
			parameters: perItem(),
			items: [{ json: { prompt: 'A mug #0' } }, { json: { prompt: '' } }, { json: { prompt: 'A mug #2' } }],
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Invalid input: Prompt: must not be empty');
			expect(error?.context?.itemIndex).toBe(1);
			expect(sim.log).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'batch',
			name: 'On Error → error output: 3 items (fine, moderated 422, job ERROR)',
			expected: 'the fine item on the success output; exactly the 2 failed ones on the error output, request_id kept',
			parameters: perItem({ concurrency: 1, downloadImage: false }),
			items: [{ json: { prompt: 'A teal kettle' } }, { json: { prompt: 'A forbidden poster' } }, { json: { prompt: 'An orange clock' } }],
			continueOnFail: true,
			onError: 'continueErrorOutput',
			setup: (sim) => sim.planJobs({}, { outcome: 'ERROR' }),
		},
		({ items, errorOutput, sim }) => {
			expect(items.map((item) => item.json.status)).toEqual(['COMPLETED']);
			expect(errorOutput.map((item) => item.pairedItem)).toEqual([{ item: 1 }, { item: 2 }]);
			const erroredJob = [...sim.jobs.values()].find((job) => job.outcome === 'ERROR');
			expect(errorOutput[1].json.error).toMatchObject({ request_id: erroredJob?.id, message: expect.stringContaining('Generation failed') });
		},
	);

	suite.case(
		{
			group: 'batch',
			name: '5 items against a real rate limit (3 per minute per endpoint), no plan stated',
			expected: 'paced through 429s: 5 images, each paid once; the rest a window later',
			parameters: perItem({ maxWaitTime: 240, downloadImage: false }),
			items: promptItems(5),
			setup: (sim) => Object.assign(sim.options, { rateLimitPerMinute: 3 }),
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items.map((item) => item.json.status)).toEqual(Array(5).fill('COMPLETED'));
			expect(sim.submits()).toHaveLength(5);
			// The first 429 teaches the lane what Bria accepted: at most one more before the window frees.
			expect(sim.requests('submitImage').filter((entry) => entry.status === 429).length).toBeGreaterThanOrEqual(1);
			expect(sim.requests('submitImage').filter((entry) => entry.status === 429).length).toBeLessThanOrEqual(2);
		},
		250_000,
	);
});
