import { imageParameters, useSimulator } from '../../../harness/fixtures';
import { runBriaNode } from '../../../harness/runNode';

/*
 * "On Error → Continue (using error output)": n8n's engine moves an item to the error output only
 * when its json holds nothing but `error` (an `error` on the item makes it replace the json with
 * the bare message). The node's failed items must leave by that output — with the request_id,
 * image_url and Bria's message under `json.error` for the next node — while "Continue (regular
 * output)" keeps putting them, unchanged, beside the results.
 */

const bria = useSimulator();

/** One fine item, one Bria moderates (422), one whose job ends in ERROR; one job at a time, so plans match items. */
function threeItems() {
	bria.sim.planJobs({}, { outcome: 'ERROR', error: { code: 500, message: 'Generation failed', details: 'GPU fell over' } });
	return {
		items: [{ json: { p: 'A teal kettle' } }, { json: { p: 'A forbidden poster' } }, { json: { p: 'An orange clock' } }],
		parameters: imageParameters({ inputMode: 'prompt', prompt: '={{ $json.p }}', options: { concurrency: 1, downloadImage: false } }),
	};
}

describe('failed items and the error output', () => {
	test('continueErrorOutput: exactly the failed items leave by the error output, with request_id and Bria\'s message', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, onError: 'continueErrorOutput', ...threeItems() });
		expect(result.error).toBeUndefined();

		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject({ status: 'COMPLETED', request_id: expect.any(String) });
		expect(result.items[0].pairedItem).toEqual({ item: 0 });

		expect(result.errorOutput).toHaveLength(2);
		const [moderated, failed] = result.errorOutput;
		expect(moderated.pairedItem).toEqual({ item: 1 });
		expect(moderated.json).toEqual({
			error: {
				message: 'Bria\'s content moderation blocked this request (submitting the job, HTTP 422)',
				description: expect.stringContaining('Bria says: Content moderation failure'),
			},
		});
		const erroredJob = [...bria.sim.jobs.values()].find((job) => job.outcome === 'ERROR');
		expect(failed.pairedItem).toEqual({ item: 2 });
		expect(failed.json).toEqual({
			error: {
				message: `Bria could not complete request ${erroredJob?.id}: Generation failed`,
				description: expect.stringContaining('GPU fell over'),
				request_id: erroredJob?.id,
			},
		});
	});

	test('continueRegularOutput: every item stays on the one output, failed ones as error items', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, ...threeItems() });
		expect(result.errorOutput).toEqual([]);
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(result.items[0].json.status).toBe('COMPLETED');
		// As before: the fields at the top of json, the message as text.
		expect(result.items[1].json).toMatchObject({ error: expect.stringContaining('HTTP 422'), description: expect.stringContaining('Content moderation') });
		expect(result.items[2].json).toMatchObject({ error: expect.stringContaining('Generation failed'), request_id: expect.any(String) });
	});

	test('a failed download keeps request_id and image_url on the error output', async () => {
		bria.sim.planJobs({ imageFault: { kind: 'respond', status: 404, body: 'gone' } });
		const result = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			onError: 'continueErrorOutput',
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A lamp' }),
		});
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.items).toEqual([]);
		expect(result.errorOutput).toHaveLength(1);
		expect(result.errorOutput[0].json.error).toMatchObject({
			message: 'Could not download the result image: the storage host answered HTTP 404',
			request_id: requestId,
			image_url: `${bria.sim.imageBaseUrl}/results/${requestId}.png`,
		});
	});

	test('a bad item (nothing sent) and a node-wide setting error also leave by the error output', async () => {
		const badItem = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			onError: 'continueErrorOutput',
			items: [{ json: { p: 'A boat' } }, { json: { p: '  ' } }],
			parameters: imageParameters({ inputMode: 'prompt', prompt: '={{ $json.p }}', options: { downloadImage: false } }),
		});
		expect(badItem.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }]);
		expect(badItem.errorOutput.map((item) => [item.pairedItem, item.json])).toEqual([
			[{ item: 1 }, { error: { message: 'Invalid input: Prompt: must not be empty', description: 'Nothing was sent to Bria for this item.' } }],
		]);

		const badSetting = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			onError: 'continueErrorOutput',
			items: [{ json: {} }, { json: {} }],
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A boat', options: { concurrency: -1 } }),
		});
		expect(badSetting.items).toEqual([]);
		expect(badSetting.errorOutput.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		expect(bria.sim.submits()).toHaveLength(1);
	});
});

describe('job-level failures are not HTTP failures', () => {
	test('a job ending ERROR or UNKNOWN does not show its status as an HTTP code', async () => {
		for (const outcome of ['ERROR', 'UNKNOWN'] as const) {
			bria.sim.reset();
			bria.sim.planJobs({ outcome });
			const result = await runBriaNode({ credentials: bria.credentials, parameters: imageParameters({ inputMode: 'prompt', prompt: 'A lamp' }) });
			expect(result.error?.context?.requestId).toBe([...bria.sim.jobs.keys()][0]);
			expect(result.error?.httpCode ?? null).toBeNull();
		}
	});

	test('a completed job without its result does not show COMPLETED as an HTTP code', async () => {
		bria.sim.planJobs({ result: { image_url: undefined } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: imageParameters({ inputMode: 'prompt', prompt: 'A lamp' }) });
		expect(result.error?.message).toContain('sent no image_url');
		expect(result.error?.httpCode ?? null).toBeNull();
	});
});
