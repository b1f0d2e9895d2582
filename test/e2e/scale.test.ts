/**
 * One execution of a few hundred items in a real n8n, as a nightly catalogue sync or a
 * spreadsheet import runs it: Manual Trigger → 300 items → Bria Tailored with its default
 * settings, against a simulator that limits each endpoint to 600 requests per minute as Bria's
 * plans do, the plan (600) stated on the credential. Every item completes with its own job and
 * no request meets a 429. Only correctness is asserted, within a generous bound: how fast such a
 * run goes beside its physical limit is the benchmark's business (`npm run bench -- scale:300`).
 */
import { BriaSimulator } from '../simulator/BriaSimulator';
import type { N8nInstance, WorkflowFile } from '../../scripts/lib/n8n';
import { briaCredential, briaNode, itemsFrom, linearWorkflow, manualTrigger, modelById, workflowId } from '../../scripts/lib/workflows';
import { acceptedSubmits, expectTokenOnlyOnApiHost, newInstance, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

const ITEMS = 300;
const PLAN_PER_MINUTE = 600;
/** Short jobs keep the test short; their count is what matters here. */
const JOB_MS = 1_000;
/** Generous: the physical limit is about a second, today's node needs about two minutes, a loaded CI machine more. */
const RUN_BOUND_MS = 8 * 60_000;

const CREDENTIAL = { id: 'briaE2eScale0001', name: 'Bria API (plan 600)' };
const PROMPTS = Array.from({ length: ITEMS }, (_, index) => `Catalogue shot ${index + 1}`);

const workflow: WorkflowFile = linearWorkflow(workflowId('scale300'), 'e2e: one execution of 300 items', [
	manualTrigger(),
	...itemsFrom('Catalogue', 'prompt', PROMPTS),
	// Default settings (Concurrency untouched); downloads off, as the benchmark's scale runs: the
	// request budget is under test here, not 300 pictures' worth of binary data.
	briaNode('Generate Each', { resource: 'image', operation: 'generate', model: modelById(101), inputMode: 'prompt', prompt: '={{ $json.prompt }}', waitForCompletion: true, options: { downloadImage: false } }, CREDENTIAL),
]);

let sim: BriaSimulator;
let n8n: N8nInstance;

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: JOB_MS, jitterMs: JOB_MS / 10, rateLimitPerMinute: PLAN_PER_MINUTE, retryAfterHeader: true });
	n8n = await newInstance();
	const credential = briaCredential(CREDENTIAL.id, TOKEN, sim.baseUrl, CREDENTIAL.name);
	await n8n.importCredentials([{ ...credential, data: { ...credential.data, requestsPerMinute: PLAN_PER_MINUTE } }]);
	await n8n.importWorkflows([workflow]);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
	await sim?.stop();
	await n8n?.dispose();
});

test(
	`one execution of ${ITEMS} items, ${PLAN_PER_MINUTE}/min plan on the credential, default settings: every item completes, no 429`,
	async () => {
		const execution = await n8n.execute(workflow.id, { timeoutMs: RUN_BOUND_MS });
		expect(execution.error).toBeUndefined();

		const items = execution.items('Generate Each');
		expect(items).toHaveLength(ITEMS);
		const notCompleted = items.filter((item) => item.json.status !== 'COMPLETED').map((item) => item.json);
		expect(notCompleted).toEqual([]);
		// Each item its own job, each billed once.
		expect(new Set(items.map((item) => item.json.request_id)).size).toBe(ITEMS);
		expect(acceptedSubmits(sim, 'submitImage')).toHaveLength(ITEMS);
		expect(sim.log.filter((entry) => entry.host === 'api' && entry.status === 429)).toEqual([]);
		expectTokenOnlyOnApiHost(sim);
	},
	RUN_BOUND_MS + 60_000,
);
