import { faults } from '../simulator/BriaSimulator';
import { faultSuite, getStatusParams, imageParams, jobSubmittedEarlier } from './matrix';

/*
 * Faults on GET /v2/status/{id} while the node waits for a submitted (paid) job. Transient
 * trouble (429, 5xx, resets, garbled bodies) is ridden out until max wait; a definite answer
 * (ERROR, UNKNOWN, 404, 4xx) stops at once. Every failure after the submit carries the request_id.
 */
const suite = faultSuite(__filename);

const rateLimited = (retryAfter?: string) => ({
	kind: 'respond' as const,
	status: 429,
	body: { error: { code: 429, message: 'Too Many Requests', details: 'status checks count too' } },
	headers: retryAfter ? { 'Retry-After': retryAfter } : undefined,
});

describe('status faults', () => {
	suite.case(
		{
			group: 'status',
			name: '429 storm (2 in a row, Retry-After: 1)',
			expected: 'backs off, keeps checking, image; one submit',
			parameters: imageParams(),
			setup: (sim) => sim.inject('status', rateLimited('1'), 2),
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].json.status).toBe('COMPLETED');
			expect(sim.requests('status').map((entry) => entry.status)).toEqual([429, 429, 200]);
		},
	);

	suite.case(
		{
			group: 'status',
			name: '429 with Retry-After past the wait budget',
			expected: 'stops at max wait (4 s), not after Retry-After (60 s); request_id kept',
			parameters: imageParams({}, { maxWaitTime: 4 }),
			setup: (sim) => sim.inject('status', rateLimited('60')),
		},
		({ error, nodeMs, sim }) => {
			const requestId = sim.submits()[0].requestId;
			expect(error?.message).toBe(`Bria did not finish request ${requestId} within the max wait time (4 s)`);
			expect(error?.description).toContain('rate limit');
			expect(error?.context?.requestId).toBe(requestId);
			expect(sim.requests('status')).toHaveLength(1);
			expect(nodeMs).toBeLessThan(4_500);
		},
	);

	suite.case(
		{
			group: 'status',
			name: '5xx flapping (502, ok, 503, ok)',
			expected: 'rides it out; image; one submit',
			parameters: imageParams(),
			setup: (sim) => {
				// Checks: 1.5 s 502, 2.5 s still running, 4.45 s 503, 5.45 s done.
				sim.planJobs({ durationMs: 4_500 });
				sim.inject('status', { kind: 'respond', status: 502, body: '<html>Bad Gateway</html>' });
				sim.inject('status', faults.pass());
				sim.inject('status', { kind: 'respond', status: 503, body: { error: { code: 503, message: 'Service Unavailable' } } });
			},
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].json.status).toBe('COMPLETED');
			expect(sim.requests('status').map((entry) => entry.status)).toEqual([502, 200, 503, 200]);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'connection resets (2 in a row)',
			expected: 'retries with backoff; image; one submit',
			parameters: imageParams(),
			setup: (sim) => sim.inject('status', { kind: 'reset' }, 2),
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].json.status).toBe('COMPLETED');
			expect(sim.requests('status').map((entry) => entry.status)).toEqual([0, 0, 200]);
		},
	);

	for (const [name, fault] of [
		['malformed JSON body', faults.malformedJson(200)],
		['empty 200 body', faults.emptyBody(200)],
	] as const) {
		suite.case(
			{
				group: 'status',
				name,
				expected: 'treated as transient: checks again; image',
				parameters: imageParams(),
				setup: (sim) => sim.inject('status', fault),
			},
			({ error, items, sim }) => {
				expect(error).toBeUndefined();
				expect(items[0].json.status).toBe('COMPLETED');
				expect(sim.requests('status')).toHaveLength(2);
			},
		);
	}

	suite.case(
		{
			group: 'status',
			name: 'IN_PROGRESS forever (max wait 3 s)',
			expected: 'stops at max wait; request_id and how to resume',
			parameters: imageParams({}, { maxWaitTime: 3 }),
			setup: (sim) => sim.planJobs({ outcome: 'NEVER' }),
		},
		({ error, nodeMs, sim }) => {
			const requestId = sim.submits()[0].requestId;
			expect(error?.message).toBe(`Bria did not finish request ${requestId} within the max wait time (3 s)`);
			expect(error?.description).toContain(`Request ID ${requestId}`);
			expect(error?.description).toContain('Resource "Request", Operation "Get Status"');
			// Checks at 1 s and once more right at the deadline: it did not give up early.
			expect(sim.requests('status')).toHaveLength(2);
			expect(nodeMs).toBeGreaterThanOrEqual(2_900);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'job finishes between the last regular check and max wait',
			expected: 'a last check at the deadline finds it: image, no timeout',
			parameters: imageParams({}, { maxWaitTime: 3 }),
			setup: (sim) => sim.planJobs({ durationMs: 2_500 }),
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].json.status).toBe('COMPLETED');
			// Where the first check goes depends on what the file's earlier cases taught (1–1.5 s), so
			// two or three checks; the last one, at the deadline, is the one that finds it done.
			const checks = sim.requests('status');
			expect(checks.every((entry) => entry.status === 200)).toBe(true);
			expect(checks.length).toBeLessThanOrEqual(3);
			expect(checks.at(-1)!.jobStatus).toBe('COMPLETED');
			expect(checks.slice(0, -1).every((entry) => entry.jobStatus === 'IN_PROGRESS')).toBe(true);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'job ends ERROR',
			expected: 'stops at once with Bria\'s message and the request_id',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ outcome: 'ERROR', error: { code: 500, message: 'Generation failed', details: 'GPU worker crashed' } }),
		},
		({ error, sim }) => {
			const requestId = sim.submits()[0].requestId;
			expect(error?.message).toBe(`Bria could not complete request ${requestId}: Generation failed`);
			expect(error?.description).toContain('Details: GPU worker crashed');
			expect(error?.context?.requestId).toBe(requestId);
			expect(sim.requests('status')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'job ends UNKNOWN',
			expected: 'stops at once; request_id to quote to Bria support',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ outcome: 'UNKNOWN' }),
		},
		({ error, sim }) => {
			const requestId = sim.submits()[0].requestId;
			expect(error?.message).toBe(`Bria reported an internal error (UNKNOWN) for request ${requestId}`);
			expect(error?.description).toContain('quote it to Bria support');
			expect(sim.requests('status')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'status',
			name: '404 NOT_FOUND mid-wait (expired id)',
			expected: 'stops at once: unknown or expired request ID',
			parameters: imageParams(),
			setup: (sim) => sim.inject('status', { kind: 'respond', status: 404, body: { status: 'NOT_FOUND' } }),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria does not know this request ID: it is wrong or has expired (checking the job status, HTTP 404)');
			expect(error?.context?.requestId).toBe(sim.submits()[0].requestId);
			expect(sim.requests('status')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'Get Status of an unknown request ID (real 404)',
			expected: 'one check, no submit; unknown or expired request ID',
			parameters: getStatusParams('0b7c1a52-unknown'),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria does not know this request ID: it is wrong or has expired (checking the job status, HTTP 404)');
			expect(sim.requests('status')).toHaveLength(1);
			expect(sim.requests('submitImage')).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'status',
			name: '401 mid-wait (token revoked)',
			expected: 'stops at once, not retried; request_id kept',
			parameters: imageParams(),
			setup: (sim) => sim.inject('status', { kind: 'respond', status: 401, body: { error: { code: 401, message: 'Unauthorized' } } }),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria did not accept the API token: check the Bria API credential (checking the job status, HTTP 401)');
			expect(error?.context?.requestId).toBe(sim.submits()[0].requestId);
			expect(sim.requests('status')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'COMPLETED without image_url (Continue On Fail)',
			expected: 'error item carrying the request_id',
			parameters: imageParams(),
			continueOnFail: true,
			setup: (sim) => sim.planJobs({ result: { image_url: undefined } }),
		},
		({ items, sim }) => {
			const requestId = sim.submits()[0].requestId;
			expect(items[0].json).toMatchObject({
				error: `Bria reported request ${requestId} as completed but sent no image_url`,
				request_id: requestId,
			});
			expect(sim.log.filter((entry) => entry.host === 'images')).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'seed arrives as a string',
			expected: 'output seed is a number',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ result: { seed: '424242' } }),
		},
		({ error, items }) => {
			expect(error).toBeUndefined();
			expect(items[0].json.seed).toBe(424242);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'structured_prompt is not valid JSON',
			expected: 'image kept (paid); the text passed on unchanged',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ result: { structured_prompt: '{"short_description": "a mug",' } }),
		},
		({ error, items }) => {
			expect(error).toBeUndefined();
			expect(items[0].json.status).toBe('COMPLETED');
			expect(items[0].json.structured_prompt).toBe('{"short_description": "a mug",');
			expect(items[0].binary?.data).toBeDefined();
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'answer trickles in slower than the budget',
			expected: 'stops at max wait (3 s), not at the end of the trickle (8 s)',
			parameters: imageParams({}, { maxWaitTime: 3 }),
			setup: (sim) => sim.inject('status', faults.slowBody(8_000, 40)),
		},
		({ error, nodeMs, sim }) => {
			expect(error?.message).toBe(`Bria did not finish request ${sim.submits()[0].requestId} within the max wait time (3 s)`);
			expect(error?.description).toContain('no answer within');
			expect(nodeMs).toBeLessThan(4_000);
		},
	);

	suite.case(
		{
			group: 'status',
			name: '302 redirect to the images host',
			expected: 'not followed: token never reaches the other host; clear error',
			parameters: imageParams(),
			setup: (sim) => sim.inject('status', faults.redirect(`${sim.imageBaseUrl}/results/collect.png`)),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria answered HTTP 302 (checking the job status, HTTP 302)');
			expect(sim.log.filter((entry) => entry.host === 'images')).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'status',
			name: 'Get Status, wait off, during a 429',
			expected: 'waits out Retry-After (1 s), checks again: the job\'s state, not an error',
			parameters: getStatusParams('job-in-flight', {}, { waitForCompletion: false }),
			setup: async (sim) => {
				await jobSubmittedEarlier(sim, 'job-in-flight', { outcome: 'NEVER' });
				sim.inject('status', rateLimited('1'));
			},
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].json).toMatchObject({ request_id: 'job-in-flight', status: 'IN_PROGRESS' });
			const [throttled, answered] = sim.requests('status');
			expect([throttled.status, answered.status]).toEqual([429, 200]);
			expect(answered.at - throttled.at).toBeGreaterThanOrEqual(900);
		},
	);
});
