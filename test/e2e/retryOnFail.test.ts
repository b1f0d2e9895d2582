/**
 * n8n's node setting Retry On Fail in a real n8n (issue 14): n8n runs the Bria node again, in the
 * same execution, after it failed (and, with Continue On Fail, when its first output item is an
 * error item). Jobs Bria accepted are continued, not submitted (billed) again; only the job that
 * failed goes again. Submits are counted per item (each item has its own prompt) at the simulator.
 */
import { BriaSimulator } from '../simulator/BriaSimulator';
import type { N8nInstance, WorkflowFile, WorkflowNode } from '../../scripts/lib/n8n';
import { briaCredential, briaNode, itemsFrom, linearWorkflow, manualTrigger, modelById, workflowId } from '../../scripts/lib/workflows';
import { acceptedSubmits, body, newInstance, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

const CREDENTIAL = { id: 'briaE2eRetryOnF01', name: 'Bria API (e2e retry on fail)' };
const FAILS = 'A poster that fails';

/** Bria Tailored with Retry On Fail, Max Tries 3, as the editor saves the node's settings. */
function generate(extra: Partial<WorkflowNode> = {}): WorkflowNode {
	return briaNode(
		'Generate',
		{
			resource: 'image',
			operation: 'generate',
			model: modelById(101),
			inputMode: 'prompt',
			prompt: '={{ $json.prompt }}',
			waitForCompletion: true,
			options: { downloadImage: false },
		},
		CREDENTIAL,
		{ retryOnFail: true, maxTries: 3, waitBetweenTries: 0, ...extra },
	);
}

function workflow(label: string, prompts: string[], bria: WorkflowNode): WorkflowFile {
	return linearWorkflow(workflowId(label), `e2e: ${label}`, [manualTrigger(), ...itemsFrom('Prompts', 'prompt', prompts), bria]);
}

const workflows = {
	stop: workflow('retryOnFailStop', ['A teal kettle', FAILS, 'An orange clock'], generate()),
	continueOnFail: workflow('retryOnFailContinue', [FAILS, 'A teal kettle', 'An orange clock'], generate({ onError: 'continueRegularOutput' })),
} satisfies Record<string, WorkflowFile>;

let sim: BriaSimulator;
let n8n: N8nInstance;

function submitted(prompt: string): string[] {
	return acceptedSubmits(sim, 'submitImage')
		.filter((entry) => body(entry).prompt === prompt)
		.map((entry) => String(entry.requestId));
}

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 300 });
	n8n = await newInstance();
	await n8n.importCredentials([briaCredential(CREDENTIAL.id, TOKEN, sim.baseUrl, CREDENTIAL.name)]);
	await n8n.importWorkflows(Object.values(workflows));
}, SETUP_TIMEOUT_MS);

beforeEach(() => {
	sim.reset();
	sim.planWhen((request) => request.prompt === FAILS, { outcome: 'ERROR', error: { code: 500, message: 'Generation failed', details: 'GPU fell over' } });
});

afterAll(async () => {
	await sim?.stop();
	await n8n?.dispose();
});

test('Retry On Fail (Max Tries 3), one job ends ERROR: each accepted job is submitted once, the failed one 3 times', async () => {
	const run = await n8n.execute(workflows.stop.id);

	expect(submitted('A teal kettle')).toHaveLength(1);
	expect(submitted('An orange clock')).toHaveLength(1);
	const failed = submitted(FAILS);
	expect(failed).toHaveLength(3);
	expect(new Set(failed).size).toBe(3);

	// The workflow fails on the last try, naming its job and the two finished ones.
	expect(run.error?.message).toBe(`Bria could not complete request ${failed[2]}: Generation failed`);
	expect(run.error?.description).toContain(`item 0 → ${submitted('A teal kettle')[0]}`);
	expect(run.error?.description).toContain(`item 2 → ${submitted('An orange clock')[0]}`);
});

test('with Continue On Fail: n8n retries while the first item is an error item; the others are continued, not paid again', async () => {
	const run = await n8n.execute(workflows.continueOnFail.id);
	expect(run.error).toBeUndefined();

	const failed = submitted(FAILS);
	expect(failed).toHaveLength(3);
	expect(submitted('A teal kettle')).toHaveLength(1);
	expect(submitted('An orange clock')).toHaveLength(1);
	expect(run.items('Generate').map((item) => [item.pairedItem, item.json.request_id, item.json.status ?? 'error'])).toEqual([
		[{ item: 0 }, failed[2], 'error'],
		[{ item: 1 }, submitted('A teal kettle')[0], 'COMPLETED'],
		[{ item: 2 }, submitted('An orange clock')[0], 'COMPLETED'],
	]);
});
