import { imageParameters, useSimulator } from '../../../../harness/fixtures';
import { runBriaNode } from '../../../../harness/runNode';

const bria = useSimulator({ jobMs: 1500 });

const getStatus = (requestId: string, extra: Record<string, unknown> = {}) => ({
	resource: 'request',
	operation: 'getStatus',
	requestId,
	...extra,
});

describe('Request → Get Status', () => {
	test('resumes a job submitted without waiting, with the same output as Generate', async () => {
		const submitted = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A tent', waitForCompletion: false }),
		});
		const requestId = String(submitted.items[0].json.request_id);

		const pending = await runBriaNode({ credentials: bria.credentials, parameters: getStatus(requestId, { waitForCompletion: false }) });
		expect(pending.items[0].json).toEqual({
			request_id: requestId,
			status: 'IN_PROGRESS',
			status_url: `${bria.sim.baseUrl}/v2/status/${requestId}`,
		});

		const done = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: submitted.items[0].json }],
			parameters: getStatus('={{ $json.request_id }}'),
		});
		expect(done.error).toBeUndefined();
		expect(done.items[0].json).toEqual({
			request_id: requestId,
			status: 'COMPLETED',
			image_url: expect.any(String),
			seed: expect.any(Number),
			structured_prompt: expect.any(Object),
		});
		expect(done.items[0].binary?.data.mimeType).toBe('image/png');
		// One submit in all: resuming never submits again.
		expect(bria.sim.submits()).toHaveLength(1);
	});

	test('an unknown or expired request ID fails with Bria\'s NOT_FOUND', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, parameters: getStatus('no-such-request') });
		expect(result.error?.message).toMatch(/does not know this request ID.*HTTP 404/);
		expect(result.error?.context?.requestId).toBe('no-such-request');
	});

	test('a job that ended in ERROR fails with Bria\'s message and the request ID', async () => {
		bria.sim.planJobs({ outcome: 'ERROR', durationMs: 100, error: { code: 500, message: 'Generation failed', details: 'GPU fell over' } });
		const submitted = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A tent', waitForCompletion: false }),
		});
		const requestId = String(submitted.items[0].json.request_id);
		const result = await runBriaNode({ credentials: bria.credentials, parameters: getStatus(requestId) });
		expect(result.error?.message).toBe(`Bria could not complete request ${requestId}: Generation failed`);
		expect(result.error?.description).toContain('GPU fell over');
		expect(result.error?.description).toContain(requestId);
	});
});
