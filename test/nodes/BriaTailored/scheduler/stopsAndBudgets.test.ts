/*
 * Scheduler defects found by reading the code (issue 9, items 2, 4 and 8), through n8n's engine:
 * a submit's answer has its own budget, the first failure stops every submit not yet sent, and
 * Get Status with waiting checks at once.
 */
import { imageParameters, useSimulator } from '../../../harness/fixtures';
import type { BriaCredential } from '../../../harness/runNode';
import { runBriaNode } from '../../../harness/runNode';
import { faults } from '../../../simulator/BriaSimulator';

const bria = useSimulator({ jobMs: 200 });

const generate = (options: Record<string, unknown> = {}) =>
	imageParameters({ inputMode: 'prompt', prompt: 'A kite', options: { downloadImage: false, ...options } });

/** The request_ids the simulator created jobs for: every one must be traceable from the node. */
const createdJobs = () => [...bria.sim.jobs.keys()];

describe('a submit Bria may accept gets its own answer budget (issue 9, item 2)', () => {
	test('after a 429, a resubmit whose 202 arrives past Max Wait Time keeps its request_id, and its finished job is delivered', async () => {
		bria.sim.inject('submitImage', { kind: 'respond', status: 429, body: { error: { code: 429, message: 'Too many requests' } }, headers: { 'Retry-After': '1' } });
		// Bria creates the job at once but its answer takes 2.5 s to arrive: past the 3 s max wait.
		bria.sim.inject('submitImage', faults.slowBody(2_500, 5));
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate({ maxWaitTime: 3 }) });
		expect(createdJobs()).toHaveLength(1);
		const [requestId] = createdJobs();
		// The 200 ms job was done long before its late answer: one check finds it (no false timeout).
		expect(result.error).toBeUndefined();
		expect(result.items[0].json).toMatchObject({ request_id: requestId, status: 'COMPLETED' });
		expect(bria.sim.requests('submitImage')).toHaveLength(2);
		expect(bria.sim.requests('status')).toHaveLength(1);
	});

	test('a job still running when its late answer arrives: one check, then the timeout error with its request_id', async () => {
		bria.sim.planJobs({ outcome: 'NEVER' });
		bria.sim.inject('submitImage', { kind: 'delay', ms: 2_500 });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate({ maxWaitTime: 1 }) });
		const [requestId] = createdJobs();
		expect(result.error?.message).toBe(`Bria did not finish request ${requestId} within the max wait time (1 s)`);
		expect(result.error?.context?.requestId).toBe(requestId);
		expect(bria.sim.requests('status')).toHaveLength(1);
	});

	test('no submit is started once the workflow\'s timeout has passed (a Retry-After past it gives up unsent); Max Wait Time does not bound it (issue 13: it counts from Bria\'s answer)', async () => {
		bria.sim.inject('submitImage', { kind: 'respond', status: 429, body: { error: { code: 429, message: 'Too many requests' } }, headers: { 'Retry-After': '5' } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate({ maxWaitTime: 60 }), workflowSettings: { executionTimeout: 3 } });
		expect(result.error?.message).toMatch(/rate limit .*lasts past the workflow's timeout \(3 s\)/);
		expect(bria.sim.requests('submitImage')).toHaveLength(1);
		expect(createdJobs()).toHaveLength(0);
	});
});

describe('without Continue On Fail, the first failure stops every submit not yet sent (issue 9, item 4)', () => {
	test('items waiting in the pacer for a turn are not sent', async () => {
		bria.sim.inject('submitImage', { kind: 'respond', status: 422, body: { error: { code: 422, message: 'Blocked by moderation' } } });
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: Array.from({ length: 3 }, () => ({ json: {} })),
			// One submit a minute for this node: items 1 and 2 wait in the pacer for their turn.
			parameters: generate({ concurrency: 3, requestsPerMinute: 1 }),
		});
		expect(result.error?.message).toMatch(/422/);
		expect(bria.sim.requests('submitImage')).toHaveLength(1);
		expect(result.durationMs).toBeLessThan(10_000);
	}, 30_000);

	test('items waiting to resubmit after a 429 are not sent', async () => {
		bria.sim.inject('submitImage', { kind: 'respond', status: 429, body: { error: { code: 429, message: 'Too many requests' } }, headers: { 'Retry-After': '4' } });
		bria.sim.inject('submitImage', { kind: 'respond', status: 422, body: { error: { code: 422, message: 'Blocked by moderation' } } });
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: Array.from({ length: 2 }, () => ({ json: {} })),
			parameters: generate({ concurrency: 2 }),
		});
		expect(result.error?.message).toMatch(/422/);
		// Both went at once: one got 429, the other 422. The 429'd item must not try again.
		await new Promise((resolve) => setTimeout(resolve, 5_000));
		expect(bria.sim.requests('submitImage').map((entry) => entry.status).sort()).toEqual([422, 429]);
		expect(createdJobs()).toHaveLength(0);
	}, 30_000);

	test('with Continue On Fail every item is still tried', async () => {
		bria.sim.inject('submitImage', { kind: 'respond', status: 422, body: { error: { code: 422, message: 'Blocked by moderation' } } });
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: Array.from({ length: 3 }, () => ({ json: {} })),
			parameters: generate({ concurrency: 3 }),
			continueOnFail: true,
		});
		expect(result.items.filter((item) => item.json.status === 'COMPLETED')).toHaveLength(2);
		expect(bria.sim.requests('submitImage')).toHaveLength(3);
	});
});

describe('Get Status with waiting (issue 9, item 8)', () => {
	test('checks at once (the job may have finished long ago), then follows the schedule', async () => {
		const submitted = await runBriaNode({ credentials: bria.credentials, parameters: generate({}) });
		const requestId = String(submitted.items[0].json.request_id);
		bria.sim.log.length = 0;
		const started = Date.now();
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: { resource: 'request', operation: 'getStatus', requestId, waitForCompletion: true, options: { downloadImage: false } },
		});
		expect(result.error).toBeUndefined();
		expect(result.items[0].json.status).toBe('COMPLETED');
		const checks = bria.sim.requests('status');
		expect(checks).toHaveLength(1);
		expect(checks[0].at - started).toBeLessThan(1_000);
	});
});

describe('one budget per organization, shared by executions', () => {
	test('two executions with the plan on the credential share it: together they never exceed it, and none meets a 429', async () => {
		bria.sim.options.rateLimitPerMinute = 4;
		bria.sim.options.jobMs = 300;
		const credentials = { ...bria.credentials, requestsPerMinute: 4 } as BriaCredential;
		const run = (items: number) =>
			runBriaNode({
				credentials,
				items: Array.from({ length: items }, () => ({ json: {} })),
				parameters: generate({ maxWaitTime: 20 }),
				workflowSettings: { executionTimeout: 20 },
				continueOnFail: true,
			});
		// 3 + 3 submits against 4 a minute: two must be refused for lack of a turn within the workflow's
		// timeout (a submit waits for its turn as long as the plan needs, up to that), not sent into a 429.
		const [first, second] = await Promise.all([run(3), run(3)]);
		const statuses = bria.sim.log.filter((entry) => entry.host === 'api').map((entry) => entry.status);
		expect(statuses).not.toContain(429);
		expect(bria.sim.submits()).toHaveLength(4);
		const outcomes = [...first.items, ...second.items].map((item) => (item.json.status === 'COMPLETED' ? 'done' : String(item.json.error)));
		expect(outcomes.filter((outcome) => outcome === 'done')).toHaveLength(4);
		expect(outcomes.filter((outcome) => outcome.startsWith('No turn to submit'))).toHaveLength(2);
		// Fair: each execution got at least one of the turns.
		expect(first.items.some((item) => item.json.status === 'COMPLETED')).toBe(true);
		expect(second.items.some((item) => item.json.status === 'COMPLETED')).toBe(true);
	}, 60_000);
});
