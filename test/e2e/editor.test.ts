/**
 * The node panel in the real n8n editor (headless Chromium): each operation and input mode shows
 * exactly the fields that mode allows, the Options list offers only what applies, and the model
 * picker lists only the organization's usable tailored models (the node's listSearch, live).
 * The fields of issue 15 as a user meets them: the Resource picker with Model, Model → Get Many
 * (Limit only without Return All, Options → Only Usable) and Get (Model ID alone), Image →
 * Generate's Images per Item and Concurrency (0 = no cap, up to 10000) added from "Add Option", and
 * Images per Item filled by the model in the AI-tool variant.
 * BRIA_E2E_SKIP_BROWSER=1 skips this file where no Chromium can be installed.
 */
import type { Browser } from 'playwright-core';

import { BriaSimulator } from '../simulator/BriaSimulator';
import { Editor, ensureChromium, launchChromium } from '../../scripts/lib/editor';
import { galleryEntries, galleryWorkflow, GALLERY_WORKFLOW_ID } from '../../scripts/lib/gallery';
import type { GalleryEntry } from '../../scripts/lib/gallery';
import type { N8nInstance, RunningN8n, WorkflowFile } from '../../scripts/lib/n8n';
import { briaCredential, briaNode, manualTrigger } from '../../scripts/lib/workflows';
import { newInstance, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

const CREDENTIAL = { id: 'briaE2eEditor0001', name: 'Bria API (e2e)' };
const entries = galleryEntries(CREDENTIAL);

const IMAGE_OPTIONS = [
	'Aspect Ratio',
	'Concurrency',
	'Download Image',
	'Guidance Scale',
	'Images per Item',
	'Max Wait Time (Seconds)',
	'Model Influence',
	'Negative Prompt',
	'Output Content Moderation',
	'Prompt Content Moderation',
	'Put Output in Field',
	'Requests per Minute',
	'Seed',
	'Steps',
];
const STRUCTURED_PROMPT_OPTIONS = ['Concurrency', 'Max Wait Time (Seconds)', 'Prompt Content Moderation', 'Requests per Minute', 'Seed'];
const GET_STATUS_OPTIONS = ['Concurrency', 'Download Image', 'Max Wait Time (Seconds)', 'Put Output in Field', 'Requests per Minute'];
const without = (list: string[], ...removed: string[]) => list.filter((entry) => !removed.includes(entry));

/** What each mode must show: parameter names in order, their labels, and the "Add Option" choices. */
const EXPECTED: Record<GalleryEntry['key'], { names: string[]; labels: string[]; options: string[] }> = {
	'image-prompt': {
		// Aspect Ratio is set on this node: shown as a field, no longer offered under "Add Option".
		names: ['resource', 'operation', 'model', 'inputMode', 'prompt', 'waitForCompletion', 'aspectRatio'],
		labels: ['Resource', 'Operation', 'Model', 'Input Mode', 'Prompt', 'Wait for Completion', 'Options', 'Aspect Ratio'],
		options: without(IMAGE_OPTIONS, 'Aspect Ratio'),
	},
	'image-recreate': {
		names: ['resource', 'operation', 'model', 'inputMode', 'structuredPrompt', 'seed', 'waitForCompletion'],
		labels: ['Resource', 'Operation', 'Model', 'Input Mode', 'Structured Prompt', 'Seed', 'Wait for Completion', 'Options'],
		// The seed is a required field of its own here, so not an option too.
		options: without(IMAGE_OPTIONS, 'Seed'),
	},
	'image-refine': {
		names: ['resource', 'operation', 'model', 'inputMode', 'prompt', 'structuredPrompt', 'waitForCompletion'],
		labels: ['Resource', 'Operation', 'Model', 'Input Mode', 'Prompt', 'Structured Prompt', 'Wait for Completion', 'Options'],
		options: IMAGE_OPTIONS,
	},
	'structured-prompt-prompt': {
		names: ['resource', 'operation', 'model', 'inputMode', 'prompt', 'waitForCompletion'],
		labels: ['Resource', 'Operation', 'Model', 'Input Mode', 'Prompt', 'Wait for Completion', 'Options'],
		options: STRUCTURED_PROMPT_OPTIONS,
	},
	'structured-prompt-refine': {
		names: ['resource', 'operation', 'model', 'inputMode', 'prompt', 'structuredPrompt', 'waitForCompletion'],
		labels: ['Resource', 'Operation', 'Model', 'Input Mode', 'Prompt', 'Structured Prompt', 'Wait for Completion', 'Options'],
		options: STRUCTURED_PROMPT_OPTIONS,
	},
	'request-get-status': {
		names: ['resource', 'operation', 'requestId', 'waitForCompletion'],
		labels: ['Resource', 'Operation', 'Request ID', 'Wait for Completion', 'Options'],
		options: GET_STATUS_OPTIONS,
	},
};

/** Nodes of the fields added by issue 15, as a user drops them on a canvas (nothing set beyond the picks). */
const NEW_FIELDS_WORKFLOW_ID = 'briaPanelIssue15';
const newFieldNodes = {
	modelGetMany: briaNode('Model: Get Many', { resource: 'model', operation: 'getAll' }, CREDENTIAL),
	modelGet: briaNode('Model: Get', { resource: 'model', operation: 'get' }, CREDENTIAL),
	imageGenerate: briaNode(
		'Image: Generate',
		{
			resource: 'image',
			operation: 'generate',
			model: { __rl: true, mode: 'list', value: '101', cachedResultName: 'Brand Product Shots' },
			inputMode: 'prompt',
			prompt: 'Our ceramic mug on a sunlit kitchen table',
			options: {},
		},
		CREDENTIAL,
	),
	// The AI-agent tool variant as saved before anything is set: the editor applies its defaults.
	imageTool: {
		...briaNode(
			'Image: Generate (tool)',
			{
				resource: 'image',
				operation: 'generate',
				model: { __rl: true, mode: 'list', value: '101', cachedResultName: 'Brand Product Shots' },
				inputMode: 'prompt',
			},
			CREDENTIAL,
		),
		type: 'n8n-nodes-bria.briaTailoredTool',
	},
};
function newFieldsWorkflow(): WorkflowFile {
	const trigger = manualTrigger();
	trigger.position = [0, 0];
	Object.values(newFieldNodes).forEach((node, index) => {
		node.position = [280 + index * 260, 0];
	});
	return {
		id: NEW_FIELDS_WORKFLOW_ID,
		name: 'Bria Tailored: Model resource, Images per Item, Concurrency',
		active: false,
		nodes: [trigger, ...Object.values(newFieldNodes)],
		connections: {},
		settings: { executionOrder: 'v1' },
	};
}
const N8N_CUSTOM_API_CALL = 'Custom API Call';
/** Fields of the Image and Structured Prompt operations: none belongs on a Model panel. */
const GENERATE_FIELDS = ['model', 'inputMode', 'prompt', 'structuredPrompt', 'seed', 'waitForCompletion', 'requestId'];

const skip = process.env.BRIA_E2E_SKIP_BROWSER === '1';
const describeBrowser = skip ? describe.skip : describe;

describeBrowser('Bria Tailored in the n8n editor', () => {
	let sim: BriaSimulator;
	let n8n: N8nInstance;
	let running: RunningN8n;
	let browser: Browser;
	let editor: Editor;

	beforeAll(async () => {
		const chromium = await ensureChromium();
		sim = await BriaSimulator.start({ token: TOKEN, jobMs: 300 });
		n8n = await newInstance();
		await n8n.importCredentials([briaCredential(CREDENTIAL.id, TOKEN, sim.baseUrl, CREDENTIAL.name)]);
		await n8n.importWorkflows([galleryWorkflow(entries), newFieldsWorkflow()]);
		running = await n8n.start();
		await running.setupOwner();
		browser = await launchChromium(chromium);
		editor = await Editor.signIn(browser, running.baseUrl);
		// Panels changed in a test are left unsaved: the next test's reload leaves them (n8n asks first).
		editor.page.on('dialog', (dialog) => void (dialog.type() === 'beforeunload' ? dialog.accept() : dialog.dismiss()));
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		await browser?.close();
		await running?.stop();
		await sim?.stop();
		await n8n?.dispose();
	});

	test.each(entries.map((entry) => [entry.key, entry] as const))('%s: the panel shows exactly the fields of that mode', async (key, entry) => {
		await editor.openNode(GALLERY_WORKFLOW_ID, entry.node.id);
		const panel = await editor.visibleParameters();
		expect(panel.credential).toBe('Credential');
		expect(panel.names).toEqual(EXPECTED[key].names);
		expect(panel.labels).toEqual(EXPECTED[key].labels);
		expect([...panel.options].sort()).toEqual([...EXPECTED[key].options].sort());
	});

	test('the model picker lists only completed FIBO models of the organization', async () => {
		await editor.openNode(GALLERY_WORKFLOW_ID, entries[0].node.id);
		const models = await editor.modelListEntries();
		expect(models).toHaveLength(3);
		for (const name of ['Brand Product Shots', 'Brand Illustrations', 'Spec Copy Model']) expect(models.join('\n')).toContain(name);
		for (const name of ['Legacy Portraits', 'Spring Campaign', 'Broken Dataset']) expect(models.join('\n')).not.toContain(name);
		// The list came from the simulator, with the credential's token.
		const listCalls = sim.requests('models');
		expect(listCalls.length).toBeGreaterThan(0);
		expect(listCalls.every((entry) => entry.headers.api_token === TOKEN)).toBe(true);
	});

	test('the Resource picker offers Image, Model, Request and Structured Prompt; Model offers Get and Get Many', async () => {
		await editor.openNode(NEW_FIELDS_WORKFLOW_ID, newFieldNodes.modelGetMany.id);
		// n8n itself appends "Custom API Call" to a node's resources and operations (an HTTP Request
		// with the node's credential); everything before it is the node's own list.
		const ours = (choices: string[]) => (choices.at(-1) === N8N_CUSTOM_API_CALL ? choices.slice(0, -1) : choices);
		expect(ours(await editor.dropdownChoices('resource'))).toEqual(['Image', 'Model', 'Request', 'Structured Prompt']);
		expect(ours(await editor.dropdownChoices('operation'))).toEqual(['Get', 'Get Many']);
	});

	test('Model → Get Many: Return All, Limit only while Return All is off, Options → Only Usable (on)', async () => {
		await editor.openNode(NEW_FIELDS_WORKFLOW_ID, newFieldNodes.modelGetMany.id);
		const panel = await editor.visibleParameters();
		expect(panel.credential).toBe('Credential');
		expect(panel.names).toEqual(['resource', 'operation', 'returnAll', 'limit']);
		expect(panel.labels).toEqual(['Resource', 'Operation', 'Return All', 'Limit', 'Options']);
		expect(await editor.switchIsOn('returnAll')).toBe(false);
		expect(await editor.parameterValue('limit')).toBe('50');

		// Return All on, as a user flips it: Limit goes; off again: it is back.
		await editor.setSwitch('returnAll', true);
		await editor.waitForParameter('limit', 'hidden');
		const all = await editor.visibleParameters();
		expect(all.names).toEqual(['resource', 'operation', 'returnAll']);
		expect(all.labels).toEqual(['Resource', 'Operation', 'Return All', 'Options']);
		await editor.setSwitch('returnAll', false);
		await editor.waitForParameter('limit', 'visible');
		expect((await editor.visibleParameters()).names).toEqual(['resource', 'operation', 'returnAll', 'limit']);

		// Only Usable is the collection's one option: n8n shows an "Add Option" button that adds it.
		await editor.addOption('Only Usable', 'onlyUsable');
		const withOption = await editor.visibleParameters();
		expect(withOption.names).toEqual(['resource', 'operation', 'returnAll', 'limit', 'onlyUsable']);
		expect(withOption.labels).toEqual(['Resource', 'Operation', 'Return All', 'Limit', 'Options', 'Only Usable']);
		expect(await editor.switchIsOn('onlyUsable')).toBe(true);
	});

	test('Model → Get: Model ID and none of the image fields', async () => {
		await editor.openNode(NEW_FIELDS_WORKFLOW_ID, newFieldNodes.modelGet.id);
		const panel = await editor.visibleParameters();
		expect(panel.credential).toBe('Credential');
		expect(panel.names).toEqual(['resource', 'operation', 'modelId']);
		expect(panel.labels).toEqual(['Resource', 'Operation', 'Model ID']);
		expect(panel.options).toEqual([]);
		for (const name of GENERATE_FIELDS) expect(panel.names).not.toContain(name);
		// No model picker, no Options collection.
		expect(await editor.page.locator('[data-test-id="ndv"] [data-test-id="rlc-input"]').count()).toBe(0);
		expect(await editor.page.locator('[data-test-id="ndv"] [data-test-id="collection-parameter-add"]').count()).toBe(0);
	});

	test('Image → Generate: Options offers Images per Item, added at 1', async () => {
		await editor.openNode(NEW_FIELDS_WORKFLOW_ID, newFieldNodes.imageGenerate.id);
		expect((await editor.visibleParameters()).options).toContain('Images per Item');
		await editor.addOption('Images per Item', 'imagesPerItem');
		expect(await editor.parameterValue('imagesPerItem')).toBe('1');
		const after = await editor.visibleParameters();
		expect(after.names).toEqual(['resource', 'operation', 'model', 'inputMode', 'prompt', 'waitForCompletion', 'imagesPerItem']);
		expect(after.labels.at(-1)).toBe('Images per Item');
		expect(after.options).not.toContain('Images per Item');
	});

	test('Image → Generate: Concurrency is added at 0, described as 0 = no cap, and takes up to 10000', async () => {
		await editor.openNode(NEW_FIELDS_WORKFLOW_ID, newFieldNodes.imageGenerate.id);
		await editor.addOption('Concurrency', 'concurrency');
		// One comparison, so a wrong field shows every difference at once.
		expect({
			added: await editor.parameterValue('concurrency'),
			description: await editor.parameterTooltip('concurrency'),
			// The editor keeps what is typed within the field's range and does not keep what is beyond it.
			typed10000: await editor.typeInto('concurrency', '10000'),
			typed10001: await editor.typeInto('concurrency', '10001'),
			typed0: await editor.typeInto('concurrency', '0'),
		}).toEqual({
			added: '0',
			description: expect.stringContaining('0 = no cap'),
			typed10000: '10000',
			typed10001: '10000',
			typed0: '0',
		});
	});

	test('Image → Generate as an AI tool: Images per Item is defined by the model, told 1 to 4', async () => {
		await editor.openNode(NEW_FIELDS_WORKFLOW_ID, newFieldNodes.imageTool.id);
		const panel = await editor.visibleParameters();
		expect(panel.labels).toContain('Images per Item');
		expect(panel.options).not.toContain('Images per Item');
		expect(await editor.definedByModel()).toEqual(['Prompt', 'Aspect Ratio', 'Images per Item']);
		// What the model reads about the value it writes ($fromAI's description, editable below it).
		expect(await editor.page.locator('[data-test-id="ndv"] textarea').evaluateAll((boxes) => boxes.map((box) => (box as HTMLTextAreaElement).value))).toContain(
			'How many images to make, 1 to 4 (variations of the same request)',
		);
	});
});
