import type { INodeParameters } from 'n8n-workflow';

import { imageParameters, TOKEN, useSimulator } from '../../../harness/fixtures';
import { runBriaNode } from '../../../harness/runNode';
import type { Fault } from '../../../simulator/BriaSimulator';

/*
 * Every job Bria accepted stays named, whatever fails after it (issue 14): its request_id is the
 * only handle on a paid result. Here the failures that are not Bria's: n8n's binary store throwing,
 * an answer of a kind the node rarely sees (a synchronous 200 with the result), the status service
 * failing while Get Status checks once; and the message of an item that starts too late.
 */

const bria = useSimulator();

const generate = (prompt = 'A teal kettle', options: INodeParameters = {}, extra: INodeParameters = {}) =>
	imageParameters({ inputMode: 'prompt', prompt, ...extra, options });

describe('n8n\'s binary store fails after Bria finished the job', () => {
	const storeFails = 'ENOSPC: no space left on device, write';

	test('the node error carries the job\'s request_id and says how to fetch the result again', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, binaryStoreFails: storeFails, parameters: generate() });
		const [requestId] = bria.sim.jobs.keys();
		expect(bria.sim.requests('image')).toHaveLength(1);
		expect(result.error?.message).toContain('ENOSPC');
		expect(result.error?.context?.requestId).toBe(requestId);
		expect(result.error?.description).toContain(`Request ID: ${requestId}`);
		expect(result.error?.description).toContain('Get Status');
	});

	test('Continue On Fail: the error item carries request_id (regular output, and under json.error on the error output)', async () => {
		const regular = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, binaryStoreFails: storeFails, parameters: generate() });
		const [first] = bria.sim.jobs.keys();
		expect(regular.items).toHaveLength(1);
		expect(regular.items[0].json).toMatchObject({ error: expect.stringContaining('ENOSPC'), request_id: first });

		bria.sim.reset();
		const errorOutput = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			onError: 'continueErrorOutput',
			binaryStoreFails: storeFails,
			parameters: generate(),
		});
		const [second] = bria.sim.jobs.keys();
		expect(errorOutput.items).toEqual([]);
		expect(errorOutput.errorOutput[0].json.error).toMatchObject({ message: expect.stringContaining('ENOSPC'), request_id: second });
	});

	test('the store working again (next run) gives the picture: the harness restores n8n\'s store', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate() });
		expect(result.items[0].binary?.data).toBeDefined();
	});
});

describe('a synchronous answer (200 with the result) is a job like any other', () => {
	const syncAnswer = (requestId: string, imageUrl: string): Fault => ({
		kind: 'respond',
		status: 200,
		body: { result: { image_url: imageUrl, seed: 5, structured_prompt: '{"short_description":"A kettle"}' }, request_id: requestId },
	});
	const forPrompt = (prompt: string) => (entry: { body: unknown }) => (entry.body as { prompt?: string }).prompt === prompt;

	test('its output carries its request_id', async () => {
		bria.sim.inject('submitImage', syncAnswer('sync-req-1', `${bria.sim.imageBaseUrl}/results/none.png`));
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate('A teal kettle', { downloadImage: false }) });
		expect(result.items[0].json).toMatchObject({ request_id: 'sync-req-1', status: 'COMPLETED', seed: 5 });
		expect(bria.sim.requests('status')).toHaveLength(0);
	});

	test('its download failing: the error carries its request_id and image_url', async () => {
		bria.sim.inject('submitImage', syncAnswer('sync-req-2', `${bria.sim.imageBaseUrl}/results/none.png`));
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate() });
		expect(result.error?.context).toMatchObject({ requestId: 'sync-req-2', imageUrl: `${bria.sim.imageBaseUrl}/results/none.png` });
	});

	test('another item failing: the error names the synchronous job as one of the others', async () => {
		bria.sim.inject('submitImage', syncAnswer('sync-req-3', `${bria.sim.imageBaseUrl}/results/none.png`), 1, forPrompt('A teal kettle'));
		bria.sim.planWhen((body) => body.prompt === 'A lamp', { outcome: 'ERROR' });
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: { p: 'A teal kettle' } }, { json: { p: 'A lamp' } }],
			parameters: generate('={{ $json.p }}', { downloadImage: false }),
		});
		expect(result.error?.message).toContain('Bria could not complete request');
		expect(result.error?.description).toContain('item 0 → sync-req-3');
	});
});

describe('Get Status with Wait for Completion off rides out a transient failure', () => {
	/** A job submitted earlier (by another execution, Wait for Completion off), finished by now. */
	async function finishedJob(): Promise<string> {
		const response = await fetch(`${bria.sim.baseUrl}/v2/image/generate/tailored`, {
			method: 'POST',
			headers: { api_token: TOKEN, 'Content-Type': 'application/json' },
			body: JSON.stringify({ tailored_model_id: '101', prompt: 'A teal kettle' }),
		});
		const { request_id: requestId } = (await response.json()) as { request_id: string };
		await new Promise((resolve) => setTimeout(resolve, 400));
		bria.sim.log.length = 0;
		return requestId;
	}
	const checkOnce = (requestId: string): INodeParameters => ({
		resource: 'request',
		operation: 'getStatus',
		requestId,
		waitForCompletion: false,
		options: { downloadImage: false },
	});

	test.each<[string, Fault]>([
		['a 503', { kind: 'respond', status: 503, body: 'Service Unavailable' }],
		['a connection reset', { kind: 'reset' }],
		['a 429', { kind: 'respond', status: 429, body: { error: { code: 429, message: 'Too Many Requests' } }, headers: { 'Retry-After': '1' } }],
	])('%s, then an answer: the job\'s state', async (_name, fault) => {
		const requestId = await finishedJob();
		bria.sim.inject('status', fault);
		const result = await runBriaNode({ credentials: bria.credentials, parameters: checkOnce(requestId) });
		expect(result.error).toBeUndefined();
		expect(result.items[0].json).toMatchObject({ request_id: requestId, status: 'COMPLETED' });
		expect(bria.sim.requests('status')).toHaveLength(2);
	});

	test('a 429 while this process\'s status window is already full of checks: the error carries the request_id', async () => {
		// Rule 2: a 429 shrinks the lane to what Bria accepted in the window; here its one check fills it.
		const requestId = await finishedJob();
		const first = await runBriaNode({ credentials: bria.credentials, parameters: checkOnce(requestId) });
		expect(first.items[0].json.status).toBe('COMPLETED');
		bria.sim.inject('status', { kind: 'respond', status: 429, body: { error: { code: 429, message: 'Too Many Requests' } }, headers: { 'Retry-After': '1' } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: checkOnce(requestId) });
		if (result.error) {
			expect(result.error.message).toBe(`Could not check request ${requestId}: Bria's rate limit (429) on status checks`);
			expect(result.error.context?.requestId).toBe(requestId);
		} else {
			expect(result.items[0].json.request_id).toBe(requestId);
		}
	}, 30_000);

	test('the status service down: an error within about 15 s, carrying the request_id', async () => {
		const requestId = await finishedJob();
		bria.sim.inject('status', { kind: 'respond', status: 503, body: 'Service Unavailable' }, 1000);
		const result = await runBriaNode({ credentials: bria.credentials, parameters: checkOnce(requestId) });
		expect(result.error?.message).toBe(`Could not check request ${requestId}: the status service answered HTTP 503`);
		expect(result.error?.context?.requestId).toBe(requestId);
		expect(result.durationMs).toBeGreaterThan(10_000);
		expect(result.durationMs).toBeLessThan(17_000);
		// Backed off, not hammered: 1, 2, 4, 8 s apart.
		expect(bria.sim.requests('status').length).toBeLessThanOrEqual(6);
	}, 30_000);

	test('Continue On Fail: the error item carries the request_id', async () => {
		const requestId = await finishedJob();
		bria.sim.inject('status', { kind: 'respond', status: 502, body: 'Bad Gateway' }, 1000);
		const result = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, parameters: checkOnce(requestId) });
		expect(result.items[0].json).toMatchObject({ request_id: requestId, error: expect.stringContaining('HTTP 502') });
	}, 30_000);
});

describe('an item that starts after the workflow\'s timeout has passed', () => {
	test('its error names the workflow\'s timeout, not the rate limit or Max Wait Time; nothing is sent for it', async () => {
		// One job at a time; item 0's submit is answered after the workflow's 1 s (a submit's answer has
		// its own budget), so item 1 starts after the timeout has passed.
		bria.sim.inject('submitImage', { kind: 'delay', ms: 2_000 }, 1, (entry) => (entry.body as { prompt?: string }).prompt === 'A slow kettle');
		const result = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			workflowSettings: { executionTimeout: 1 },
			items: [{ json: { p: 'A slow kettle' } }, { json: { p: 'A lamp' } }],
			parameters: generate('={{ $json.p }}', { concurrency: 1, downloadImage: false }),
		});
		expect(result.items[0].json.error).toMatch(/within the workflow's timeout \(1 s\)/);
		expect(result.items[0].json.request_id).toBe(bria.sim.submits()[0].requestId);
		// Told what ended its wait: the workflow's timeout (a71375e blamed the rate limit or the node's cap).
		const told = `${String(result.items[1].json.error)}\n${String(result.items[1].json.description)}`;
		expect(result.items[1].json.error).toMatch(/^No turn to submit the job/);
		expect(told).toMatch(/workflow's timeout/);
		expect(told).not.toMatch(/within the max wait time|rate limit or .* cap left no turn/);
		expect(bria.sim.submits().map((entry) => (entry.body as { prompt: string }).prompt)).toEqual(['A slow kettle']);
	});
});
