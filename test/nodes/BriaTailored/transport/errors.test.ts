import { imageParameters, TOKEN, useSimulator, visibleText } from '../../../harness/fixtures';
import { runBriaNode } from '../../../harness/runNode';

const bria = useSimulator();

const generate = (extra: Record<string, unknown> = {}) =>
	imageParameters({ inputMode: 'prompt', prompt: 'A chair', options: { downloadImage: false, maxWaitTime: 10 }, ...extra });

describe('Bria API failures become clear n8n errors', () => {
	test.each([
		[400, 'Bria rejected the request parameters'],
		[403, 'Bria refused access: the model may not belong to this organization'],
		[422, 'Bria\'s content moderation blocked this request'],
		[500, 'Bria had a server error'],
		[503, 'Bria had a server error'],
	])('submit answered %i: message, Bria\'s details, HTTP code; never retried', async (status, meaning) => {
		bria.sim.inject('submitImage', {
			kind: 'respond',
			status,
			body: { error: { code: status, message: `simulated ${status}`, details: 'see the docs' }, request_id: 'r-1' },
		});
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate() });
		expect(result.error?.message).toBe(`${meaning}${meaning.endsWith('organization') ? ', or the plan or quota does not allow this request' : ''} (submitting the job, HTTP ${status})`);
		expect(result.error?.description).toBe(`Bria says: simulated ${status}\nDetails: see the docs`);
		expect(result.error?.httpCode).toBe(String(status));
		expect(bria.sim.requests('submitImage')).toHaveLength(1);
	});

	test('a wrong token: 401 that points at the credential, and the token is not repeated anywhere', async () => {
		const result = await runBriaNode({
			credentials: { ...bria.credentials, apiToken: `${TOKEN}-wrong` },
			parameters: generate(),
		});
		expect(result.error?.message).toBe('Bria did not accept the API token: check the Bria API credential (submitting the job, HTTP 401)');
		expect(visibleText(result)).not.toContain(TOKEN);
	});

	test('content moderation (422) from the real check in the simulator', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate({ prompt: 'something forbidden' }) });
		expect(result.error?.httpCode).toBe('422');
		expect(result.error?.description).toContain('Content moderation failure');
	});

	test('an older endpoint\'s plain-text error body is surfaced as is', async () => {
		bria.sim.inject('submitImage', { kind: 'respond', status: 400, body: 'tailored_model_id is invalid' });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate() });
		expect(result.error?.description).toBe('Bria says: tailored_model_id is invalid');
	});

	test('a job that ends UNKNOWN stops at once and names the request for Bria support', async () => {
		bria.sim.planJobs({ outcome: 'UNKNOWN', durationMs: 100, error: { code: 500, message: 'Internal error' } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate() });
		const requestId = bria.sim.submits()[0] && [...bria.sim.jobs.keys()][0];
		expect(result.error?.message).toBe(`Bria reported an internal error (UNKNOWN) for request ${requestId}`);
		expect(result.error?.description).toContain('quote it to Bria support');
		expect(bria.sim.requests('status')).toHaveLength(1);
	});

	test('continueOnFail: the failed item becomes an error item carrying its request ID, others go on', async () => {
		bria.sim.planJobs({}, { outcome: 'ERROR', durationMs: 100, error: { code: 500, message: 'Generation failed' } }, {});
		const result = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			items: [{ json: {} }, { json: {} }, { json: {} }],
			parameters: generate({ options: { downloadImage: false, concurrency: 1 } }),
		});
		expect(result.error).toBeUndefined();
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(result.items[0].json.status).toBe('COMPLETED');
		expect(result.items[1].json).toEqual({
			error: expect.stringMatching(/^Bria could not complete request .*: Generation failed$/),
			description: expect.any(String),
			request_id: expect.any(String),
		});
		expect(result.items[2].json.status).toBe('COMPLETED');
	});

	test('without continueOnFail the first failure stops new submits and names the jobs already paid for', async () => {
		// Item 1 fails first, while item 0's job is still running: item 0 is waited for, items 2 and 3 never start.
		bria.sim.planJobs({ durationMs: 2500 }, { outcome: 'ERROR', durationMs: 100, error: { code: 500, message: 'Generation failed' } });
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: {} }, { json: {} }, { json: {} }, { json: {} }],
			parameters: generate({ options: { downloadImage: false, concurrency: 2 } }),
		});
		expect(result.error?.message).toMatch(/Generation failed/);
		expect(result.error?.context?.itemIndex).toBe(1);
		expect(bria.sim.requests('status').filter((entry) => entry.path.endsWith(String(bria.sim.submits()[0].requestId))).length).toBeGreaterThan(1);
		expect(bria.sim.submits()).toHaveLength(2);
		const firstJob = bria.sim.submits()[0].requestId;
		expect(result.error?.description).toContain(`item 0 → ${firstJob}`);
	});
});
