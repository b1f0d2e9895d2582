/**
 * The node panel in the real n8n editor (headless Chromium): each operation and input mode shows
 * exactly the fields that mode allows, the Options list offers only what applies, and the model
 * picker lists only the organization's usable tailored models (the node's listSearch, live).
 * BRIA_E2E_SKIP_BROWSER=1 skips this file where no Chromium can be installed.
 */
import type { Browser } from 'playwright-core';

import { BriaSimulator } from '../simulator/BriaSimulator';
import { Editor, ensureChromium, launchChromium } from '../../scripts/lib/editor';
import { galleryEntries, galleryWorkflow, GALLERY_WORKFLOW_ID } from '../../scripts/lib/gallery';
import type { GalleryEntry } from '../../scripts/lib/gallery';
import type { N8nInstance, RunningN8n } from '../../scripts/lib/n8n';
import { briaCredential } from '../../scripts/lib/workflows';
import { newInstance, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

const CREDENTIAL = { id: 'briaE2eEditor0001', name: 'Bria API (e2e)' };
const entries = galleryEntries(CREDENTIAL);

const IMAGE_OPTIONS = [
	'Aspect Ratio',
	'Concurrency',
	'Download Image',
	'Guidance Scale',
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
		await n8n.importWorkflows([galleryWorkflow(entries)]);
		running = await n8n.start();
		await running.setupOwner();
		browser = await launchChromium(chromium);
		editor = await Editor.signIn(browser, running.baseUrl);
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
});
