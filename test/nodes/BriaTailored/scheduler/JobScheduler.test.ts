import { failureBackoffMs, pollDelayMs } from '../../../../nodes/BriaTailored/scheduler/cadence';
import { imageParameters, useSimulator } from '../../../harness/fixtures';
import type { BriaCredential } from '../../../harness/runNode';
import { runBriaNode } from '../../../harness/runNode';

const bria = useSimulator();

const generate = (options: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
	imageParameters({ inputMode: 'prompt', prompt: 'A lamp', options: { downloadImage: false, ...options }, ...extra });

describe('poll schedule', () => {
	test('first check 1.5 s in, then just under every 2 s for a minute, then 3 s, then 5 s', () => {
		expect(pollDelayMs(0)).toBe(1500);
		expect(pollDelayMs(400)).toBe(1100);
		expect(pollDelayMs(1500)).toBe(1950);
		expect(pollDelayMs(59_999)).toBe(1950);
		expect(pollDelayMs(60_000)).toBe(3000);
		expect(pollDelayMs(120_000)).toBe(5000);
		expect(pollDelayMs(3_600_000)).toBe(5000);
	});

	test('a job of D seconds is noticed within 2 s and costs at most D/2 + 2 checks', () => {
		for (let durationMs = 100; durationMs <= 300_000; durationMs += 100) {
			let at = 0;
			let checks = 0;
			let gap = 0;
			while (at < durationMs) {
				const delay = pollDelayMs(at);
				at += delay;
				checks++;
				gap = delay;
			}
			expect(checks).toBeLessThanOrEqual(durationMs / 2000 + 2);
			if (durationMs <= 60_000) expect(gap).toBeLessThan(2000);
		}
	});

	test('failed checks back off exponentially up to 30 s', () => {
		expect([1, 2, 3, 4, 5, 6, 7].map(failureBackoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
	});
});

describe('waiting for jobs', () => {
	test('a submit answered 429 was not accepted: waits for Retry-After and submits again', async () => {
		bria.sim.inject('submitImage', { kind: 'respond', status: 429, body: { error: { code: 429, message: 'Too many requests' } }, headers: { 'Retry-After': '1' } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate() });
		expect(result.error).toBeUndefined();
		const submits = bria.sim.requests('submitImage');
		expect(submits.map((entry) => entry.status)).toEqual([429, 202]);
		expect(submits[1].at - submits[0].at).toBeGreaterThanOrEqual(950);
		expect(bria.sim.submits()).toHaveLength(1);
	});

	test('a submit that got no answer is never repeated: it may have been accepted and billed', async () => {
		bria.sim.inject('submitImage', { kind: 'reset' });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate() });
		expect(result.error?.message).toBe('Could not submit the job to Bria: the connection was reset');
		expect(result.error?.description).toContain('Not retried automatically');
		expect(bria.sim.requests('submitImage')).toHaveLength(1);
	});

	test('status outages (5xx, resets) are ridden out until the job completes', async () => {
		bria.sim.planJobs({ durationMs: 100 });
		bria.sim.inject('status', { kind: 'respond', status: 503, body: 'Service Unavailable' });
		bria.sim.inject('status', { kind: 'reset' });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate() });
		expect(result.error).toBeUndefined();
		expect(bria.sim.requests('status').map((entry) => entry.status)).toEqual([503, 0, 200]);
		expect(bria.sim.submits()).toHaveLength(1);
	});

	test('max wait time: stops with the request ID and how to resume it', async () => {
		bria.sim.planJobs({ outcome: 'NEVER' });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate({ maxWaitTime: 2 }) });
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.error?.message).toBe(`Bria did not finish request ${requestId} within the max wait time (2 s)`);
		expect(result.error?.description).toContain('Resource "Request", Operation "Get Status"');
		expect(result.error?.context?.requestId).toBe(requestId);
		expect(result.durationMs).toBeLessThan(2000 + 2000);
	});

	test('stopping the execution mid-wait returns promptly and sends nothing more', async () => {
		bria.sim.planJobs({ outcome: 'NEVER' });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: generate(), cancelAfterMs: 1500 });
		expect(result.durationMs).toBeLessThan(1500 + 1000);
		const sent = bria.sim.log.length;
		await new Promise((resolve) => setTimeout(resolve, 2500));
		expect(bria.sim.log.length).toBe(sent);
	});

	test('items run concurrently: all jobs are submitted before the first one finishes', async () => {
		bria.sim.options.jobMs = 1500;
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: Array.from({ length: 4 }, () => ({ json: {} })),
			parameters: generate({ concurrency: 4 }),
		});
		bria.sim.options.jobMs = 200;
		expect(result.items).toHaveLength(4);
		// Jobs overlapped: the last submit came before the first job (1.5 s) could have finished.
		const submits = bria.sim.submits().map((entry) => entry.at);
		expect(submits).toHaveLength(4);
		expect(Math.max(...submits) - Math.min(...submits)).toBeLessThan(1500);
	});

	test('concurrency 1 runs items strictly one after another', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: Array.from({ length: 3 }, () => ({ json: {} })),
			parameters: generate({ concurrency: 1 }),
		});
		expect(result.items).toHaveLength(3);
		// Each submit comes after the previous job's last status check.
		const routes = bria.sim.log.map((entry) => entry.route);
		const submitPositions = routes.flatMap((route, index) => (route === 'submitImage' ? [index] : []));
		expect(submitPositions).toHaveLength(3);
		for (let i = 1; i < submitPositions.length; i++) {
			expect(routes.slice(submitPositions[i - 1] + 1, submitPositions[i])).toContain('status');
		}
	});

	test('the node\'s Requests per Minute caps its own requests per endpoint per minute; an item with no turn before the workflow\'s timeout is not sent', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: Array.from({ length: 3 }, () => ({ json: {} })),
			parameters: generate({ requestsPerMinute: 2, maxWaitTime: 5 }),
			workflowSettings: { executionTimeout: 10 },
			continueOnFail: true,
		});
		expect(result.items.map((item) => item.json.status ?? item.json.error)).toEqual([
			'COMPLETED',
			'COMPLETED',
			'No turn to submit the job within the workflow\'s timeout (10 s)',
		]);
		expect(bria.sim.submits()).toHaveLength(2);
		// Refused at once (the next turn is a minute away, past the timeout), not after waiting it out.
		expect(result.durationMs).toBeLessThan(5_000);
	});

	test('a submit waits for its turn as long as the plan needs: Max Wait Time counts from Bria\'s answer, so the third item goes a window later and completes', async () => {
		// Max Wait (20 s) is far below the minute the third submit waits. It leaves room for the third
		// job's one check: the plan (2/min) holds for the status lane too, whose turns free up a minute
		// after the first two checks, close to when the third job's check falls due. With 5 s the test
		// raced that (CI, under load: the second check came late and the third had no turn in time).
		const result = await runBriaNode({
			credentials: { ...bria.credentials, requestsPerMinute: 2 } as BriaCredential,
			items: Array.from({ length: 3 }, () => ({ json: {} })),
			parameters: generate({ maxWaitTime: 20, downloadImage: false }),
			continueOnFail: true,
		});
		expect(result.items.map((item) => item.json.status ?? item.json.error)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
		const submits = bria.sim.submits();
		expect(submits).toHaveLength(3);
		expect(submits[2].at - submits[0].at).toBeGreaterThanOrEqual(60_000);
	}, 150_000);

	test('a Max Wait Time under the first check\'s moment (0.5 s) still checks the job once, at its end, and names 0.5 s', async () => {
		bria.sim.options.jobMs = 150;
		const done = await runBriaNode({ credentials: bria.credentials, parameters: generate({ maxWaitTime: 0.5, downloadImage: false }) });
		expect(done.items[0].json.status).toBe('COMPLETED');
		bria.sim.options.jobMs = 5_000;
		const late = await runBriaNode({ credentials: bria.credentials, parameters: generate({ maxWaitTime: 0.5, downloadImage: false }) });
		expect(late.error?.message).toMatch(/within the max wait time \(0\.5 s\)$/);
	});

	test('an empty Concurrency (an expression that gave nothing) is no cap, like 0', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: Array.from({ length: 3 }, () => ({ json: {} })),
			parameters: generate({ concurrency: '={{ "" }}', downloadImage: false }),
		});
		expect(result.error).toBeUndefined();
		expect(result.items.map((item) => item.json.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
	});
});
