/**
 * Every operation and input mode of Bria Tailored in a real n8n, through `n8n execute`: the
 * package installed from its npm tarball, the credential imported with n8n's CLI, Bria played by
 * the simulator. Asserts the node's outputs (JSON and binary) and what reached the simulator.
 */
import { BriaSimulator, fiboStructuredPrompt } from '../simulator/BriaSimulator';
import type { Execution, N8nInstance, WorkflowFile } from '../../scripts/lib/n8n';
import { briaCredential, briaNode, itemsFrom, linearWorkflow, manualTrigger, modelById, setNode, workflowId } from '../../scripts/lib/workflows';
import { acceptedSubmits, body, expectTokenOnlyOnApiHost, maxInFlight, newInstance, pngOf, requestsTo, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

const CREDENTIAL = { id: 'briaE2eOperations1', name: 'Bria API (e2e)' };
const IMAGE = { resource: 'image', operation: 'generate' };
const STRUCTURED = { resource: 'structuredPrompt', operation: 'generate' };

const MANY_PROMPTS = ['A red mug', 'A blue vase', 'A green lamp', 'A yellow chair', 'A purple rug'];
const MIXED_PROMPTS = ['A teal kettle', 'A forbidden poster', '', 'An orange clock'];
const LITERAL_SP = fiboStructuredPrompt('A linen tote bag on a beach', 5);

// All workflows up front: one import command covers the file (each n8n CLI call costs seconds).
const workflows = {
	imagePrompt: linearWorkflow(workflowId('imagePrompt'), 'e2e: image from a text prompt', [
		manualTrigger(),
		briaNode(
			'Prompt With Options',
			{
				...IMAGE,
				model: modelById(101),
				inputMode: 'prompt',
				prompt: 'A red ceramic mug on a sunlit table',
				waitForCompletion: true,
				options: {
					aspectRatio: '16:9',
					negativePrompt: 'text, watermark',
					guidanceScale: 4,
					stepsNum: 30,
					modelInfluence: 0.8,
					seed: 42,
					promptContentModeration: false,
					visualOutputContentModeration: true,
					binaryPropertyName: 'image',
				},
			},
			CREDENTIAL,
		),
		briaNode(
			'URL Only',
			{
				...IMAGE,
				model: { __rl: true, mode: 'list', value: '102', cachedResultName: 'Brand Illustrations' },
				inputMode: 'prompt',
				prompt: 'A flat illustration of a mug',
				waitForCompletion: true,
				options: { downloadImage: false },
			},
			CREDENTIAL,
		),
	]),
	chain: linearWorkflow(workflowId('chain'), 'e2e: structured prompt → refine → recreate', [
		manualTrigger(),
		briaNode('Structured Prompt', { ...STRUCTURED, model: modelById(106), inputMode: 'prompt', prompt: 'A glass bottle of olive oil', waitForCompletion: true, options: { seed: 7 } }, CREDENTIAL),
		briaNode('Refine', { ...IMAGE, model: modelById(106), inputMode: 'refine', prompt: 'Add a sprig of rosemary', structuredPrompt: '={{ $json.structured_prompt }}', waitForCompletion: true, options: {} }, CREDENTIAL),
		briaNode('Recreate', { ...IMAGE, model: modelById(106), inputMode: 'recreate', structuredPrompt: '={{ $json.structured_prompt }}', seed: '={{ $json.seed }}', waitForCompletion: true, options: {} }, CREDENTIAL),
	]),
	structuredRefine: linearWorkflow(workflowId('spRefine'), 'e2e: refine a structured prompt, recreate from JSON text', [
		manualTrigger(),
		setNode('Saved Prompt', [{ name: 'sp_text', value: JSON.stringify(LITERAL_SP) }]),
		briaNode('Refine Structured Prompt', { ...STRUCTURED, model: modelById(101), inputMode: 'refine', prompt: 'Make it an evening scene', structuredPrompt: '={{ $json.sp_text }}', waitForCompletion: true, options: {} }, CREDENTIAL),
		briaNode('Recreate From Text', { ...IMAGE, model: modelById(101), inputMode: 'recreate', structuredPrompt: JSON.stringify(LITERAL_SP, null, 2), seed: 1234, waitForCompletion: true, options: { aspectRatio: '9:16' } }, CREDENTIAL),
	]),
	noWait: linearWorkflow(workflowId('noWait'), 'e2e: submit without waiting, then Get Status', [
		manualTrigger(),
		briaNode('Submit Without Waiting', { ...IMAGE, model: modelById(101), inputMode: 'prompt', prompt: 'A copper watering can', waitForCompletion: false, options: {} }, CREDENTIAL),
		briaNode('Get Status', { resource: 'request', operation: 'getStatus', requestId: '={{ $json.request_id }}', waitForCompletion: true, options: { binaryPropertyName: 'image', maxWaitTime: 60 } }, CREDENTIAL),
		briaNode('Check Once', { resource: 'request', operation: 'getStatus', requestId: "={{ $('Submit Without Waiting').item.json.request_id }}", waitForCompletion: false, options: { downloadImage: false } }, CREDENTIAL),
	]),
	manyItems: linearWorkflow(workflowId('manyItems'), 'e2e: five items, two at a time', [
		manualTrigger(),
		...itemsFrom('Prompts', 'prompt', MANY_PROMPTS),
		briaNode('Generate Each', { ...IMAGE, model: modelById(101), inputMode: 'prompt', prompt: '={{ $json.prompt }}', waitForCompletion: true, options: { concurrency: 2 } }, CREDENTIAL),
	]),
	continueOnFail: linearWorkflow(workflowId('continueOnFail'), 'e2e: one bad item among good ones', [
		manualTrigger(),
		...itemsFrom('Prompts', 'prompt', MIXED_PROMPTS),
		briaNode('Generate Each', { ...IMAGE, model: modelById(101), inputMode: 'prompt', prompt: '={{ $json.prompt }}', waitForCompletion: true, options: {} }, CREDENTIAL, { onError: 'continueRegularOutput' }),
	]),
	failure: linearWorkflow(workflowId('failure'), 'e2e: a Bria error stops the workflow', [
		manualTrigger(),
		// Model 104 is still training: the simulator answers 400 like Bria.
		briaNode('Untrained Model', { ...IMAGE, model: modelById(104), inputMode: 'prompt', prompt: 'A wooden spoon', waitForCompletion: true, options: {} }, CREDENTIAL),
	]),
} satisfies Record<string, WorkflowFile>;

let sim: BriaSimulator;
let n8n: N8nInstance;
const outputs: string[] = [];

async function execute(workflow: WorkflowFile): Promise<Execution> {
	sim.reset();
	const execution = await n8n.execute(workflow.id);
	outputs.push(execution.output);
	return execution;
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

test('image from a text prompt: every option reaches Bria under its own name; PNG in the chosen binary field', async () => {
	const run = await execute(workflows.imagePrompt);
	expect(run.error).toBeUndefined();

	const [item] = run.items('Prompt With Options');
	expect(item.json).toEqual({
		request_id: expect.any(String),
		status: 'COMPLETED',
		image_url: expect.stringMatching(new RegExp(`^${sim.imageBaseUrl}/results/`)),
		seed: 42,
		structured_prompt: expect.objectContaining({ short_description: expect.stringContaining('A red ceramic mug') }),
	});
	expect(item.pairedItem).toEqual({ item: 0 });
	const png = pngOf(run, item, 'image');
	expect([png.width, png.height]).toEqual([1024, 576]); // 16:9

	const [submit, second] = acceptedSubmits(sim, 'submitImage');
	expect(submit.path).toBe('/v2/image/generate/tailored');
	expect(body(submit)).toEqual({
		tailored_model_id: '101',
		prompt: 'A red ceramic mug on a sunlit table',
		aspect_ratio: '16:9',
		negative_prompt: 'text, watermark',
		guidance_scale: 4,
		steps_num: 30,
		tailored_model_influence: 0.8,
		seed: 42,
		prompt_content_moderation: false,
		visual_output_content_moderation: true,
		sync: false,
	});

	// Model picked from the list; Download Image off: the URL only, nothing fetched from storage.
	const [urlOnly] = run.items('URL Only');
	expect(urlOnly.binary).toBeUndefined();
	expect(urlOnly.json).toMatchObject({ status: 'COMPLETED', image_url: expect.stringContaining(sim.imageBaseUrl) });
	expect(body(second)).toEqual({ tailored_model_id: '102', prompt: 'A flat illustration of a mug', sync: false });
	expect(requestsTo(sim, 'image').map((entry) => entry.requestId)).toEqual([item.json.request_id]);

	expect(expectTokenOnlyOnApiHost(sim)).toBeGreaterThanOrEqual(5);
});

test('chain: structured prompt → refine → recreate, outputs feed the next node unchanged through expressions', async () => {
	const run = await execute(workflows.chain);
	expect(run.error).toBeUndefined();
	const [structured] = run.items('Structured Prompt');
	const [refined] = run.items('Refine');
	const [recreated] = run.items('Recreate');

	// Structured prompt only: JSON, no image.
	expect(structured.json).toEqual({ request_id: expect.any(String), status: 'COMPLETED', seed: 7, structured_prompt: expect.any(Object) });
	expect(structured.binary).toBeUndefined();

	const [spSubmit] = acceptedSubmits(sim, 'submitStructuredPrompt');
	expect(spSubmit.path).toBe('/v2/structured_prompt/generate/tailored');
	expect(body(spSubmit)).toEqual({ tailored_model_id: '106', prompt: 'A glass bottle of olive oil', seed: 7, sync: false });

	const [refineSubmit, recreateSubmit] = acceptedSubmits(sim, 'submitImage');
	// Refine: the previous node's structured prompt, sent back as a JSON string, plus the new instruction.
	expect(Object.keys(body(refineSubmit)).sort()).toEqual(['prompt', 'structured_prompt', 'sync', 'tailored_model_id']);
	expect(JSON.parse(body(refineSubmit).structured_prompt as string)).toEqual(structured.json.structured_prompt);
	expect(body(refineSubmit).prompt).toBe('Add a sprig of rosemary');
	expect((refined.json.structured_prompt as Record<string, unknown>).short_description).toContain('Add a sprig of rosemary');

	// Recreate: the refined structured prompt and its seed, no prompt.
	expect(Object.keys(body(recreateSubmit)).sort()).toEqual(['seed', 'structured_prompt', 'sync', 'tailored_model_id']);
	expect(JSON.parse(body(recreateSubmit).structured_prompt as string)).toEqual(refined.json.structured_prompt);
	expect(body(recreateSubmit).seed).toBe(refined.json.seed);
	expect(recreated.json.seed).toBe(refined.json.seed);
	expect(recreated.json.structured_prompt).toEqual(refined.json.structured_prompt);

	// Same structured prompt and seed: the same image, byte for byte.
	expect(pngOf(run, recreated).bytes.equals(pngOf(run, refined).bytes)).toBe(true);
	expectTokenOnlyOnApiHost(sim);
});

test('structured prompt refine from JSON text, and recreate from JSON typed into the field', async () => {
	const run = await execute(workflows.structuredRefine);
	expect(run.error).toBeUndefined();

	const [refined] = run.items('Refine Structured Prompt');
	expect(refined.binary).toBeUndefined();
	expect(refined.json.image_url).toBeUndefined();
	expect((refined.json.structured_prompt as Record<string, unknown>).short_description).toContain('Make it an evening scene');
	const [spSubmit] = acceptedSubmits(sim, 'submitStructuredPrompt');
	// Image-only fields never go to the structured prompt endpoint.
	expect(Object.keys(body(spSubmit)).sort()).toEqual(['prompt', 'structured_prompt', 'sync', 'tailored_model_id']);
	expect(JSON.parse(body(spSubmit).structured_prompt as string)).toEqual(LITERAL_SP);

	const [recreated] = run.items('Recreate From Text');
	const [imageSubmit] = acceptedSubmits(sim, 'submitImage');
	expect(body(imageSubmit)).toEqual({
		tailored_model_id: '101',
		structured_prompt: expect.any(String),
		seed: 1234,
		aspect_ratio: '9:16',
		sync: false,
	});
	expect(JSON.parse(body(imageSubmit).structured_prompt as string)).toEqual(LITERAL_SP);
	expect(recreated.json).toMatchObject({ status: 'COMPLETED', seed: 1234, structured_prompt: LITERAL_SP });
	const png = pngOf(run, recreated);
	expect([png.width, png.height]).toEqual([576, 1024]); // 9:16
});

test('Wait for Completion off returns the request id at once; Request → Get Status fetches the result later', async () => {
	const run = await execute(workflows.noWait);
	expect(run.error).toBeUndefined();

	const [submitted] = run.items('Submit Without Waiting');
	expect(submitted.json).toEqual({
		request_id: expect.any(String),
		status: 'IN_PROGRESS',
		status_url: `${sim.baseUrl}/v2/status/${submitted.json.request_id as string}`,
	});
	expect(submitted.binary).toBeUndefined();

	const [done] = run.items('Get Status');
	expect(done.json).toMatchObject({ request_id: submitted.json.request_id, status: 'COMPLETED', image_url: expect.any(String), seed: expect.any(Number) });
	pngOf(run, done, 'image');

	const [checked] = run.items('Check Once');
	expect(checked.json).toMatchObject({ request_id: submitted.json.request_id, status: 'COMPLETED' });
	expect(checked.binary).toBeUndefined();

	expect(acceptedSubmits(sim, 'submitImage')).toHaveLength(1); // resuming never submits again
	const statusChecks = requestsTo(sim, 'status');
	expect(statusChecks.length).toBeGreaterThanOrEqual(2);
	expect(new Set(statusChecks.map((entry) => entry.requestId))).toEqual(new Set([submitted.json.request_id]));
	expect(requestsTo(sim, 'image')).toHaveLength(1);
	expectTokenOnlyOnApiHost(sim);
});

test('five items: five images in input order, paired to their items, at most two jobs at once', async () => {
	const run = await execute(workflows.manyItems);
	expect(run.error).toBeUndefined();
	const items = run.items('Generate Each');
	expect(items).toHaveLength(MANY_PROMPTS.length);
	items.forEach((item, index) => {
		expect(item.pairedItem).toEqual({ item: index });
		expect((item.json.structured_prompt as Record<string, unknown>).short_description).toContain(MANY_PROMPTS[index]);
		pngOf(run, item);
	});
	expect(new Set(items.map((item) => item.json.request_id)).size).toBe(MANY_PROMPTS.length);
	expect(acceptedSubmits(sim, 'submitImage').map((entry) => body(entry).prompt).sort()).toEqual([...MANY_PROMPTS].sort());
	expect(maxInFlight(sim)).toBe(2);
});

test('Continue On Fail: the bad items become error items, the good ones still get their images', async () => {
	const run = await execute(workflows.continueOnFail);
	expect(run.error).toBeUndefined();
	const items = run.items('Generate Each');
	expect(items).toHaveLength(MIXED_PROMPTS.length);
	expect(items.map((item) => item.pairedItem)).toEqual(MIXED_PROMPTS.map((_, index) => ({ item: index })));

	for (const index of [0, 3]) {
		expect(items[index].json.status).toBe('COMPLETED');
		pngOf(run, items[index]);
	}
	// Content moderation (Bria's 422): an error item, no image.
	expect(items[1].json.error).toEqual(expect.any(String));
	expect(items[1].binary).toBeUndefined();
	expect(JSON.stringify(items[1].json)).toMatch(/moderation/i);
	// Empty prompt: refused before sending anything.
	expect(items[2].json.error).toMatch(/prompt/i);
	expect(items[2].binary).toBeUndefined();

	const prompts = requestsTo(sim, 'submitImage').map((entry) => body(entry).prompt);
	expect(prompts.sort()).toEqual(['A forbidden poster', 'A teal kettle', 'An orange clock']);
	expect(acceptedSubmits(sim, 'submitImage')).toHaveLength(2);
});

test('without Continue On Fail, a Bria error fails the execution with Bria\'s message', async () => {
	const run = await execute(workflows.failure);
	expect(run.error).toBeDefined();
	expect(run.error?.node?.name).toBe('Untrained Model');
	expect(`${run.error?.message ?? ''} ${run.error?.description ?? ''}`).toMatch(/not ready|InProgress|400|Bad Request/i);
	expect(acceptedSubmits(sim, 'submitImage')).toHaveLength(0);
});

test('the API token appears in no execution output or log', () => {
	expect(outputs.length).toBeGreaterThanOrEqual(7);
	for (const output of outputs) expect(output.includes(TOKEN)).toBe(false);
});
