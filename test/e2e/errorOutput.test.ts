/**
 * "On Error → Continue (using error output)" in a real n8n: exactly the failed items leave by the
 * Bria node's error output, and the next node can read their request_id, image_url and Bria's
 * message. "Continue (regular output)" keeps every item on the one output, as before.
 */
import { BriaSimulator } from '../simulator/BriaSimulator';
import type { Execution, N8nInstance, WorkflowFile, WorkflowNode } from '../../scripts/lib/n8n';
import { briaCredential, briaNode, itemsFrom, manualTrigger, modelById, setNode, workflowId } from '../../scripts/lib/workflows';
import { newInstance, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

const CREDENTIAL = { id: 'briaE2eErrorOut01', name: 'Bria API (e2e error output)' };
// One fine, one Bria's moderation refuses (422), one whose job ends ERROR (planned per test).
const PROMPTS = ['A teal kettle', 'A forbidden poster', 'An orange clock'];

function generate(onError: 'continueErrorOutput' | 'continueRegularOutput'): WorkflowNode {
	return briaNode(
		'Generate',
		{
			resource: 'image',
			operation: 'generate',
			model: modelById(101),
			inputMode: 'prompt',
			prompt: '={{ $json.prompt }}',
			waitForCompletion: true,
			// One job at a time, so the planned ERROR falls on the third item.
			options: { concurrency: 1, downloadImage: false },
		},
		CREDENTIAL,
		{ onError },
	);
}

/** Trigger → three prompts → Bria; the Bria node's outputs feed the given nodes (index = output). */
function workflow(label: string, bria: WorkflowNode, next: WorkflowNode[]): WorkflowFile {
	const nodes = [manualTrigger(), ...itemsFrom('Prompts', 'prompt', PROMPTS), bria, ...next];
	nodes.forEach((node, index) => (node.position = [index * 240, 0]));
	const chain = nodes.slice(0, 4);
	const connections: WorkflowFile['connections'] = {};
	chain.forEach((node, index) => {
		const to = chain[index + 1];
		if (to) connections[node.name] = { main: [[{ node: to.name, type: 'main', index: 0 }]] };
	});
	connections[bria.name] = { main: next.map((node) => [{ node: node.name, type: 'main', index: 0 }]) };
	return { id: workflowId(label), name: `e2e: ${label}`, active: false, nodes, connections, settings: { executionOrder: 'v1' } };
}

const workflows = {
	errorOutput: workflow(
		'errorOutput',
		generate('continueErrorOutput'),
		[
			setNode('Use Image', [{ name: 'url', value: '={{ $json.image_url }}' }]),
			// What a user's error branch does: log the request, keep Bria's explanation, retry later.
			setNode('Log Failure', [
				{ name: 'request_id', value: '={{ $json.error.request_id }}' },
				{ name: 'message', value: '={{ $json.error.message }}' },
				{ name: 'description', value: '={{ $json.error.description }}' },
				{ name: 'prompt', value: '={{ $json.prompt }}' },
			]),
		],
	),
	regularOutput: workflow('regularOutput', generate('continueRegularOutput'), [
		setNode('Next', [{ name: 'request_id', value: '={{ $json.request_id }}' }, { name: 'error', value: '={{ $json.error }}' }], true),
	]),
} satisfies Record<string, WorkflowFile>;

let sim: BriaSimulator;
let n8n: N8nInstance;

async function execute(file: WorkflowFile): Promise<Execution> {
	sim.reset();
	sim.planJobs({}, { outcome: 'ERROR', error: { code: 500, message: 'Generation failed', details: 'GPU fell over' } });
	return await n8n.execute(file.id);
}

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 300 });
	n8n = await newInstance();
	await n8n.importCredentials([briaCredential(CREDENTIAL.id, TOKEN, sim.baseUrl, CREDENTIAL.name)]);
	await n8n.importWorkflows(Object.values(workflows));
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
	await sim?.stop();
	await n8n?.dispose();
});

test('continueErrorOutput: the failed items, and only they, reach the error branch with request_id and Bria\'s message', async () => {
	const run = await execute(workflows.errorOutput);
	expect(run.error).toBeUndefined();

	const success = run.items('Generate', 0);
	const failed = run.items('Generate', 1);
	expect(success.map((item) => item.pairedItem)).toEqual([{ item: 0 }]);
	expect(success[0].json).toMatchObject({ status: 'COMPLETED', request_id: expect.any(String) });
	expect(failed.map((item) => item.pairedItem)).toEqual([{ item: 1 }, { item: 2 }]);

	// The next node on each branch ran with its own items.
	expect(run.items('Use Image').map((item) => item.json.url)).toEqual([success[0].json.image_url]);
	const logged = run.items('Log Failure').map((item) => item.json);
	const erroredJob = [...sim.jobs.values()].find((job) => job.outcome === 'ERROR');
	expect(logged).toHaveLength(2);
	expect(logged[0]).toMatchObject({
		message: 'Bria\'s content moderation blocked this request (submitting the job, HTTP 422)',
		description: expect.stringContaining('Bria says: Content moderation failure'),
		prompt: 'A forbidden poster',
	});
	// Refused at submit: no job, so no request_id.
	expect(logged[0].request_id || undefined).toBeUndefined();
	expect(logged[1]).toEqual({
		request_id: erroredJob?.id,
		message: `Bria could not complete request ${erroredJob?.id}: Generation failed`,
		description: expect.stringContaining('GPU fell over'),
		prompt: 'An orange clock',
	});
});

test('continueRegularOutput: every item stays on the one output, error items as before', async () => {
	const run = await execute(workflows.regularOutput);
	expect(run.error).toBeUndefined();
	const items = run.items('Generate', 0);
	expect(items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	expect(items[0].json.status).toBe('COMPLETED');
	expect(items[1].json).toEqual({ error: expect.stringContaining('HTTP 422'), description: expect.stringContaining('Content moderation') });
	const erroredJob = [...sim.jobs.values()].find((job) => job.outcome === 'ERROR');
	expect(items[2].json).toMatchObject({ error: expect.stringContaining('Generation failed'), request_id: erroredJob?.id });
	expect(run.items('Next').map((item) => item.json.request_id || undefined)).toEqual([items[0].json.request_id, undefined, erroredJob?.id]);
});
