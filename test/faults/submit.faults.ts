import { faults } from '../simulator/BriaSimulator';
import type { CaseResult } from './matrix';
import { faultSuite, imageParams, structuredPromptParams, TOKEN } from './matrix';

/*
 * Faults on the submit (POST /v2/image/generate/tailored). A submit is a billed job: only a 429
 * (Bria did not accept it) may be sent again; after any other failure, a lost answer included,
 * the node stops for that item and says so.
 */
const suite = faultSuite(__filename);

const briaError = (code: number, message: string, details = 'see docs.bria.ai') => ({
	error: { code, message, details },
	request_id: `err-${code}`,
});

/** Bria's 429 on a submit, with `Retry-After` in seconds where given. */
const tooManyRequests = (retryAfterS?: number) => ({
	kind: 'respond' as const,
	status: 429,
	body: briaError(429, 'Too Many Requests'),
	...(retryAfterS === undefined ? {} : { headers: { 'Retry-After': String(retryAfterS) } }),
});

/** The job completed after one 429, its second submit at least `minGapMs` after the first. */
const resubmittedOnceAfter =
	(minGapMs: number) =>
	({ error, items, sim }: CaseResult) => {
		expect(error).toBeUndefined();
		expect(items[0].json.status).toBe('COMPLETED');
		const submits = sim.requests('submitImage');
		expect(submits.map((entry) => entry.status)).toEqual([429, 202]);
		expect(submits[1].at - submits[0].at).toBeGreaterThanOrEqual(minGapMs);
	};

describe('submit faults', () => {
	suite.case(
		{
			group: 'submit',
			name: '429 with Retry-After: 1',
			expected: 'waits ≥ 1 s, submits again once, image',
			parameters: imageParams(),
			setup: (sim) => sim.inject('submitImage', tooManyRequests(1)),
		},
		(result) => {
			resubmittedOnceAfter(950)(result);
			expect(result.items[0].binary?.data).toBeDefined();
		},
	);

	suite.case(
		{
			group: 'submit',
			name: '429 without Retry-After',
			expected: 'backs off ≥ 2 s, submits again once, image',
			parameters: imageParams(),
			setup: (sim) => sim.inject('submitImage', tooManyRequests()),
		},
		resubmittedOnceAfter(1_900),
	);

	suite.case(
		{
			group: 'submit',
			name: '429 with Retry-After past Max Wait Time',
			// From review: a Free plan's one probe past its limit meets a 429 with Retry-After ≈ 60 s;
			// Max Wait Time (30 s for 10 s jobs, say) used to fail the item and, with it, the batch.
			expected: 'waits as Bria asks (Max Wait Time counts from the answer), then the job completes',
			parameters: imageParams({}, { maxWaitTime: 1 }),
			submitAnswerMs: 4_000,
			setup: (sim) => sim.inject('submitImage', tooManyRequests(3)),
		},
		resubmittedOnceAfter(2_900),
	);

	suite.case(
		{
			group: 'submit',
			name: '429 with Retry-After past the workflow\'s timeout',
			expected: 'gives up at once, naming the workflow\'s timeout; no job',
			parameters: imageParams({}, { maxWaitTime: 60 }),
			workflowSettings: { executionTimeout: 5 },
			setup: (sim) => sim.inject('submitImage', tooManyRequests(30)),
		},
		({ error, nodeMs, sim }) => {
			expect(error?.message).toBe(
				'Bria\'s rate limit was reached (submitting the job; gave up: the rate limit lasts past the workflow\'s timeout (5 s), HTTP 429)',
			);
			expect(error?.httpCode).toBe('429');
			expect(sim.requests('submitImage')).toHaveLength(1);
			expect(nodeMs).toBeLessThan(1_000);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: '429 on one submit ten times in a row',
			expected: 'waits as Bria asks each time, then gives up naming the refusals; no job',
			parameters: imageParams({}, { maxWaitTime: 3 }),
			submitAnswerMs: 12_000,
			setup: (sim) => sim.inject('submitImage', tooManyRequests(1), 20),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria\'s rate limit was reached (submitting the job; gave up: Bria refused it 10 times in a row, HTTP 429)');
			expect(sim.requests('submitImage').map((entry) => entry.status)).toEqual(Array(10).fill(429));
			expect(sim.submits()).toHaveLength(0);
		},
	);

	for (const [status, meaning, body] of [
		[400, 'Bria rejected the request parameters', briaError(400, 'Bad Request', 'steps_num must be an integer between 20 and 50')],
		[500, 'Bria had a server error', briaError(500, 'Internal Server Error', 'try again later')],
		[502, 'Bria had a server error', '<html><body><h1>502 Bad Gateway</h1></body></html>'],
		[503, 'Bria had a server error', briaError(503, 'Service Unavailable', 'maintenance')],
	] as const) {
		suite.case(
			{
				group: 'submit',
				name: `${status} ${typeof body === 'string' ? '(proxy HTML page)' : '(Bria error body)'}`,
				expected: `clear HTTP ${status} error with Bria's text; not resubmitted`,
				parameters: imageParams(),
				setup: (sim) => sim.inject('submitImage', { kind: 'respond', status, body }),
			},
			({ error, sim }) => {
				expect(error?.message).toBe(`${meaning} (submitting the job, HTTP ${status})`);
				expect(error?.httpCode).toBe(String(status));
				expect(error?.description).toContain(typeof body === 'string' ? '502 Bad Gateway' : body.error.details);
				expect(sim.requests('submitImage')).toHaveLength(1);
			},
		);
	}

	suite.case(
		{
			group: 'submit',
			name: '401: wrong API token (real check)',
			expected: 'points at the credential; token not echoed; not resubmitted',
			parameters: imageParams(),
			credentials: { apiToken: `${TOKEN}-revoked` },
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria did not accept the API token: check the Bria API credential (submitting the job, HTTP 401)');
			expect(sim.requests('submitImage')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: '403: model not in this organization (real check)',
			expected: 'explains access/model; Bria details shown; not resubmitted',
			parameters: imageParams({ model: { __rl: true, mode: 'id', value: '999' } }),
		},
		({ error, sim }) => {
			expect(error?.message).toMatch(/^Bria refused access: the model may not belong to this organization.*HTTP 403\)$/);
			expect(error?.description).toContain('Model not found in organization: 999');
			expect(sim.requests('submitImage')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: '422: content moderation (real check)',
			expected: 'names content moderation; not resubmitted',
			parameters: imageParams({ prompt: 'something forbidden' }),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria\'s content moderation blocked this request (submitting the job, HTTP 422)');
			expect(error?.description).toContain('flagged by content moderation');
			expect(sim.requests('submitImage')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: '202 with a malformed JSON body',
			expected: 'error: accepted but no request_id; not resubmitted',
			parameters: imageParams(),
			setup: (sim) => sim.inject('submitImage', faults.malformedJson(202)),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria accepted the job but its answer has no request_id to follow');
			expect(error?.description).toContain('Not retried');
			expect(sim.requests('submitImage')).toHaveLength(1);
			expect(sim.requests('status')).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: '202 without request_id',
			expected: 'error: accepted but no request_id; not resubmitted',
			parameters: imageParams(),
			setup: (sim) => sim.inject('submitImage', faults.acceptedWithoutRequestId()),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria accepted the job but its answer has no request_id to follow');
			expect(error?.description).toContain('"status":"IN_PROGRESS"');
			expect(sim.requests('submitImage')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: '202 with an empty body',
			expected: 'error: accepted but no request_id; not resubmitted',
			parameters: imageParams(),
			setup: (sim) => sim.inject('submitImage', faults.emptyBody(202)),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria accepted the job but its answer has no request_id to follow');
			expect(sim.requests('submitImage')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: 'connection reset',
			expected: 'error: connection reset, may be billed; not resubmitted',
			parameters: imageParams(),
			setup: (sim) => sim.inject('submitImage', { kind: 'reset' }),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Could not submit the job to Bria: the connection was reset');
			expect(error?.description).toContain('Check your Bria dashboard');
			expect(sim.requests('submitImage')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: 'no answer (request timeout, max wait 2 s)',
			expected: 'waits the submit\'s own answer budget (60 s), not max wait: the answer is the only handle on a paid job; no answer; not resubmitted',
			parameters: imageParams({}, { maxWaitTime: 2 }),
			setup: (sim) => sim.inject('submitImage', { kind: 'hang' }),
			submitAnswerMs: 60_000,
		},
		({ error, nodeMs, sim }) => {
			expect(error?.message).toBe('Could not submit the job to Bria: no answer within 60 s');
			expect(sim.requests('submitImage')).toHaveLength(1);
			expect(nodeMs).toBeGreaterThanOrEqual(59_000);
		},
		75_000,
	);

	suite.case(
		{
			group: 'submit',
			name: 'answer trickles in slower than max wait',
			expected: 'the accepted job\'s answer is waited for (8 s); the job, done by then, is checked once and delivered',
			parameters: imageParams({}, { maxWaitTime: 3 }),
			setup: (sim) => sim.inject('submitImage', faults.slowBody(8_000, 40)),
			submitAnswerMs: 8_000,
		},
		({ error, items, nodeMs, sim }) => {
			const requestId = sim.submits()[0]?.requestId;
			expect(requestId).toBeDefined();
			expect(error).toBeUndefined();
			expect(items[0].json).toMatchObject({ request_id: requestId, status: 'COMPLETED' });
			expect(sim.requests('submitImage')).toHaveLength(1);
			expect(sim.requests('status')).toHaveLength(1);
			expect(nodeMs).toBeLessThan(12_000);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: 'a slow submit answer (2.8 s) with Max Wait Time 3 s, job still running',
			expected: 'Max Wait Time counts from the answer: the job still gets its 3 s of checks, then stops with the request_id to resume',
			parameters: imageParams({}, { maxWaitTime: 3 }),
			submitAnswerMs: 2_800,
			setup: (sim) => {
				sim.planJobs({ outcome: 'NEVER' });
				sim.inject('submitImage', { kind: 'delay', ms: 2_800 });
			},
		},
		({ error, sim }) => {
			expect(sim.requests('status').length).toBeGreaterThanOrEqual(2);
			const requestId = sim.submits()[0].requestId;
			expect(error?.message).toBe(`Bria did not finish request ${requestId} within the max wait time (3 s)`);
			expect(error?.context?.requestId).toBe(requestId);
			expect(error?.description).toContain('Operation "Get Status"');
		},
	);

	suite.case(
		{
			group: 'submit',
			name: 'slow answer within the budget (1.5 s delay)',
			expected: 'waits for it; one submit; image',
			parameters: imageParams(),
			setup: (sim) => sim.inject('submitImage', { kind: 'delay', ms: 1_500 }),
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].json.status).toBe('COMPLETED');
			expect(sim.requests('submitImage')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: '302 redirect to another host',
			expected: 'not followed (token stays home); clear HTTP 302 error',
			parameters: imageParams(),
			setup: (sim) => sim.inject('submitImage', faults.redirect(`${sim.imageBaseUrl}/collect`)),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria answered HTTP 302 (submitting the job, HTTP 302)');
			expect(sim.log.filter((entry) => entry.host === 'images')).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: '200 with the flat sync shape {image_url, structured_prompt}',
			expected: 'accepted as completed; no status calls; seed/prompt passed on',
			parameters: imageParams({}, { downloadImage: false }),
			setup: (sim) =>
				sim.inject('submitImage', {
					kind: 'respond',
					status: 200,
					body: { image_url: `${sim.imageBaseUrl}/results/flat.png`, structured_prompt: '{"short_description":"a mug"}', seed: 7 },
				}),
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].json).toMatchObject({ status: 'COMPLETED', seed: 7, structured_prompt: { short_description: 'a mug' } });
			expect(sim.requests('status')).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: 'Wait for Completion off',
			expected: 'one submit, no status call; IN_PROGRESS with request_id',
			parameters: imageParams({ waitForCompletion: false }),
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].json).toEqual({
				request_id: sim.submits()[0].requestId,
				status: 'IN_PROGRESS',
				status_url: `${sim.baseUrl}/v2/status/${sim.submits()[0].requestId}`,
			});
			expect(sim.requests('status')).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'submit',
			name: 'structured prompt: 503 on submit',
			expected: 'clear HTTP 503 error; not resubmitted',
			parameters: structuredPromptParams(),
			setup: (sim) => sim.inject('submitStructuredPrompt', { kind: 'respond', status: 503, body: briaError(503, 'Service Unavailable') }),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Bria had a server error (submitting the job, HTTP 503)');
			expect(sim.requests('submitStructuredPrompt')).toHaveLength(1);
		},
	);
});
