import { imageParameters, useSimulator } from '../../../harness/fixtures';
import { runBriaNode } from '../../../harness/runNode';

/*
 * The workflow's own timeout (Workflow Settings → Timeout Workflow) bounds every wait of the node.
 * A queue-mode worker checks that timeout only between nodes, so without this a timed-out
 * execution would keep polling Bria until Max Wait Time. The harness engine behaves the same
 * way (no timer aborts a running node), so these tests show what a worker does.
 */

const bria = useSimulator();

const generate = (options: Record<string, unknown> = {}) =>
	imageParameters({ inputMode: 'prompt', prompt: 'A lamp', options: { downloadImage: false, ...options } });

describe("the workflow's timeout bounds the wait", () => {
	test('a job that outlives the workflow timeout stops at the timeout, with its request ID', async () => {
		bria.sim.planJobs({ outcome: 'NEVER' });
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: generate({ maxWaitTime: 60 }),
			workflowSettings: { executionTimeout: 2 },
		});
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.error?.message).toBe(`Bria did not finish request ${requestId} within the workflow's timeout (2 s)`);
		expect(result.error?.description).toContain('Resource "Request", Operation "Get Status"');
		expect(result.error?.context?.requestId).toBe(requestId);
		expect(result.durationMs).toBeLessThan(2000 + 2000);
		// Nothing is sent once the node has given up.
		const sent = bria.sim.log.length;
		await new Promise((resolve) => setTimeout(resolve, 2000));
		expect(bria.sim.log.length).toBe(sent);
	});

	test('with Continue On Fail the error item keeps the request ID', async () => {
		bria.sim.planJobs({ outcome: 'NEVER' });
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: generate({ maxWaitTime: 60 }),
			workflowSettings: { executionTimeout: 2 },
			continueOnFail: true,
		});
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject({ error: expect.stringContaining("workflow's timeout"), request_id: requestId });
		expect(result.durationMs).toBeLessThan(2000 + 2000);
	});

	test('the shorter limit wins: Max Wait Time below the workflow timeout keeps its own message', async () => {
		bria.sim.planJobs({ outcome: 'NEVER' });
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: generate({ maxWaitTime: 2 }),
			workflowSettings: { executionTimeout: 30 },
		});
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.error?.message).toBe(`Bria did not finish request ${requestId} within the max wait time (2 s)`);
	});

	test('no timeout (-1, n8n\'s "off") leaves Max Wait Time alone, and a job that finishes in time is unaffected', async () => {
		const off = await runBriaNode({
			credentials: bria.credentials,
			parameters: generate({ maxWaitTime: 60 }),
			workflowSettings: { executionTimeout: -1 },
		});
		expect(off.error).toBeUndefined();
		const inTime = await runBriaNode({
			credentials: bria.credentials,
			parameters: generate({ maxWaitTime: 60 }),
			workflowSettings: { executionTimeout: 30 },
		});
		expect(inTime.error).toBeUndefined();
		expect(inTime.items[0].json).toMatchObject({ status: 'COMPLETED', request_id: expect.any(String) });
	});

	test('the image download ends at the workflow timeout too, keeping request_id and image_url', async () => {
		// Done at once, then an image that trickles in for 20 s: without the bound a worker would hold
		// the execution for the download's own 120 s.
		bria.sim.planJobs({ durationMs: 200, imageFault: { kind: 'slowBody', ms: 20_000, chunks: 20 } });
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A lamp', options: { maxWaitTime: 60 } }),
			workflowSettings: { executionTimeout: 3 },
			continueOnFail: true,
		});
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.items[0].json).toMatchObject({
			error: expect.stringContaining('Could not download the result image'),
			request_id: requestId,
			image_url: expect.stringContaining(requestId),
		});
		expect(result.durationMs).toBeLessThan(3000 + 2000);
	});
});
