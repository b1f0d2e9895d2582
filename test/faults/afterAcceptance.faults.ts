import { faultSuite, getStatusParams, imageParams, jobSubmittedEarlier } from './matrix';

/*
 * Failures after Bria accepted a job that are not Bria's failing the job (issue 14): n8n's binary
 * store throwing while it keeps the picture, an answer of the synchronous kind (200 with the
 * result), the status service failing while Get Status checks once. The shared runner asserts on
 * every one that each job Bria created is named in the output or the error.
 */
const suite = faultSuite(__filename);

const DISK_FULL = 'ENOSPC: no space left on device, write';
const rateLimited = { kind: 'respond' as const, status: 429, body: { error: { code: 429, message: 'Too Many Requests' } }, headers: { 'Retry-After': '1' } };

describe('after acceptance: storing the picture', () => {
	suite.case(
		{
			group: 'result image',
			name: 'n8n\'s binary store fails (disk full)',
			expected: 'error carrying the request_id; how to fetch it again',
			parameters: imageParams(),
			binaryStoreFails: DISK_FULL,
		},
		({ error, sim }) => {
			const requestId = sim.submits()[0].requestId;
			expect(error?.message).toContain('ENOSPC');
			expect(error?.context?.requestId).toBe(requestId);
			expect(error?.description).toContain(`Request ID: ${requestId}`);
			expect(sim.requests('image')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'n8n\'s binary store fails, 2 items, error output',
			expected: 'both on the error output, each with its request_id',
			parameters: imageParams({ prompt: '={{ $json.prompt }}' }),
			items: [{ json: { prompt: 'A mug #0' } }, { json: { prompt: 'A mug #1' } }],
			continueOnFail: true,
			onError: 'continueErrorOutput',
			binaryStoreFails: DISK_FULL,
		},
		({ errorOutput, items, sim }) => {
			expect(items).toEqual([]);
			const idOf = (i: number) => sim.submits().find((entry) => (entry.body as { prompt: string }).prompt === `A mug #${i}`)?.requestId;
			expect(errorOutput.map((item) => [item.pairedItem, (item.json.error as { request_id?: string }).request_id])).toEqual([
				[{ item: 0 }, idOf(0)],
				[{ item: 1 }, idOf(1)],
			]);
		},
	);
});

describe('after acceptance: a synchronous answer', () => {
	suite.case(
		{
			group: 'submit',
			name: 'synchronous answer (200 with the result)',
			expected: 'image; its request_id in the output; no status check',
			parameters: imageParams(),
			setup: (sim) => sim.inject('submitImage', { kind: 'sync' }),
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(sim.submits()[0].status).toBe(200);
			expect(items[0].json).toMatchObject({ status: 'COMPLETED', request_id: sim.submits()[0].requestId });
			expect(items[0].binary?.data).toBeDefined();
			expect(sim.requests('status')).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: 'synchronous answer, then its picture is gone (404)',
			expected: 'error carrying its request_id and image_url',
			parameters: imageParams(),
			setup: (sim) => {
				sim.inject('submitImage', { kind: 'sync' });
				sim.planJobs({ imageFault: { kind: 'respond', status: 404, body: 'gone' } });
			},
		},
		({ error, sim }) => {
			const requestId = sim.submits()[0].requestId;
			expect(error?.context).toMatchObject({ requestId, imageUrl: `${sim.imageBaseUrl}/results/${requestId}.png` });
		},
	);

	suite.case(
		{
			group: 'batch',
			name: 'synchronous answer beside a job that ends ERROR',
			expected: 'node error names the failed job and the synchronous one',
			parameters: imageParams({ prompt: '={{ $json.prompt }}' }, { downloadImage: false }),
			items: [{ json: { prompt: 'A mug #0' } }, { json: { prompt: 'A mug #1' } }],
			setup: (sim) => {
				sim.inject('submitImage', { kind: 'sync' }, 1, (entry) => (entry.body as { prompt?: string }).prompt === 'A mug #0');
				sim.planWhen((body) => body.prompt === 'A mug #1', { outcome: 'ERROR' });
			},
		},
		({ error, sim }) => {
			const idOf = (i: number) => sim.submits().find((entry) => (entry.body as { prompt: string }).prompt === `A mug #${i}`)?.requestId;
			expect(error?.context?.requestId).toBe(idOf(1));
			expect(error?.description).toContain(`item 0 → ${idOf(0)}`);
		},
	);
});

describe('after acceptance: Get Status checking once', () => {
	suite.case(
		{
			group: 'status',
			name: 'Get Status, wait off, one 503 then an answer',
			expected: 'rides it out: the job\'s state, not an error',
			parameters: getStatusParams('job-submitted-earlier', {}, { waitForCompletion: false }),
			setup: async (sim) => {
				await jobSubmittedEarlier(sim, 'job-submitted-earlier', { durationMs: 0 });
				sim.inject('status', { kind: 'respond', status: 503, body: 'Service Unavailable' });
			},
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].json).toMatchObject({ request_id: 'job-submitted-earlier', status: 'COMPLETED' });
			expect(sim.requests('status').map((entry) => entry.status)).toEqual([503, 200]);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'Get Status, wait off, a reset then an answer',
			expected: 'rides it out: the job\'s state (running)',
			parameters: getStatusParams('job-submitted-earlier', {}, { waitForCompletion: false }),
			setup: async (sim) => {
				await jobSubmittedEarlier(sim, 'job-submitted-earlier', { outcome: 'NEVER' });
				sim.inject('status', { kind: 'reset' });
			},
		},
		({ error, items }) => {
			expect(error).toBeUndefined();
			expect(items[0].json).toMatchObject({ request_id: 'job-submitted-earlier', status: 'IN_PROGRESS' });
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'Get Status, wait off, status service down',
			expected: 'gives up within 15 s; error carrying the request_id',
			parameters: getStatusParams('job-submitted-earlier', { maxWaitTime: 30 }, { waitForCompletion: false }),
			setup: async (sim) => {
				await jobSubmittedEarlier(sim, 'job-submitted-earlier', { durationMs: 0 });
				sim.inject('status', { kind: 'respond', status: 502, body: 'Bad Gateway' }, 100);
			},
		},
		({ error, nodeMs }) => {
			expect(error?.message).toBe('Could not check request job-submitted-earlier: the status service answered HTTP 502');
			expect(error?.context?.requestId).toBe('job-submitted-earlier');
			expect(nodeMs).toBeLessThan(17_000);
		},
		40_000,
	);

	suite.case(
		{
			group: 'status',
			name: 'Get Status, wait off, one 429 then an answer (Continue On Fail)',
			expected: 'waits out Retry-After: the job\'s state',
			parameters: getStatusParams('job-submitted-earlier', {}, { waitForCompletion: false }),
			continueOnFail: true,
			setup: async (sim) => {
				await jobSubmittedEarlier(sim, 'job-submitted-earlier', { durationMs: 0 });
				sim.inject('status', rateLimited);
			},
		},
		({ items, sim }) => {
			expect(items[0].json).toMatchObject({ request_id: 'job-submitted-earlier', status: 'COMPLETED' });
			expect(sim.requests('status').map((entry) => entry.status)).toEqual([429, 200]);
		},
	);
});
