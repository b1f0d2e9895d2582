/**
 * Event-driven paths in a running n8n (`n8n start`): a CMS event (Webhook → Bria Tailored →
 * Respond to Webhook) called with undici as a CMS would, a webhook answering with the PNG itself,
 * and a Form Trigger submitted with a multipart POST. The recipes in examples/, with their email and
 * storage steps, run in recipes.test.ts.
 */
import { randomUUID } from 'node:crypto';

import { FormData, request } from 'undici';

import { BriaSimulator, pngDimensions } from '../simulator/BriaSimulator';
import type { N8nInstance, RunningN8n, WorkflowFile } from '../../scripts/lib/n8n';
import { briaCredential, briaNode, linearWorkflow, modelById, workflowId } from '../../scripts/lib/workflows';
import { brandImageFormWorkflow, cmsEventWorkflow } from './fixtures';
import { acceptedSubmits, body, expectTokenOnlyOnApiHost, newInstance, requestsTo, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

const CREDENTIAL = { id: 'briaE2eWebhooks01', name: 'Bria API (e2e)' };

const cms = cmsEventWorkflow(workflowId('cms'), CREDENTIAL, 101);
const form = brandImageFormWorkflow(workflowId('form'), CREDENTIAL, 102);
const imageWebhook: WorkflowFile = linearWorkflow(workflowId('imageHook'), 'e2e: webhook answering with the PNG', [
	{
		id: randomUUID(),
		name: 'Image Request',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		position: [0, 0],
		webhookId: randomUUID(),
		parameters: { httpMethod: 'POST', path: 'bria-e2e-image', responseMode: 'responseNode', options: {} },
	},
	briaNode('Generate', { resource: 'image', operation: 'generate', model: modelById(106), inputMode: 'prompt', prompt: '={{ $json.body.prompt }}', waitForCompletion: true, options: { aspectRatio: '3:2' } }, CREDENTIAL),
	{
		id: randomUUID(),
		name: 'Respond With Image',
		type: 'n8n-nodes-base.respondToWebhook',
		typeVersion: 1.1,
		position: [0, 0],
		parameters: { respondWith: 'binary', responseDataSource: 'set', inputFieldName: 'data', options: {} },
	},
]);

let sim: BriaSimulator;
let n8n: N8nInstance;
let running: RunningN8n;

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 300 });
	n8n = await newInstance();
	await n8n.importCredentials([briaCredential(CREDENTIAL.id, TOKEN, sim.baseUrl, CREDENTIAL.name)]);
	await n8n.importWorkflows([cms, form, imageWebhook]);
	for (const workflow of [cms, form, imageWebhook]) await n8n.activate(workflow.id);
	running = await n8n.start();
}, SETUP_TIMEOUT_MS);

beforeEach(() => sim.reset());

afterAll(async () => {
	await running?.stop();
	await sim?.stop();
	await n8n?.dispose();
});

async function postJson(path: string, payload: unknown) {
	const response = await request(`${running.baseUrl}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(payload),
		headersTimeout: 60_000,
		bodyTimeout: 60_000,
	});
	return { status: response.statusCode, headers: response.headers, bytes: Buffer.from(await response.body.arrayBuffer()) };
}

test('a CMS event gets the generated image back in the HTTP response', async () => {
	const event = { event: 'entry.publish', entry: { title: 'Spring launch', summary: 'Our new mug in pastel colours.' } };
	const response = await postJson('/webhook/bria-cms-event', event);
	expect(response.status).toBe(200);
	expect(String(response.headers['content-type'])).toMatch(/application\/json/);
	const answer = JSON.parse(response.bytes.toString('utf8')) as Record<string, unknown>;
	expect(answer).toEqual({
		request_id: expect.any(String),
		image_url: expect.stringMatching(new RegExp(`^${sim.imageBaseUrl}/results/.+\\.png$`)),
		seed: expect.any(Number),
		structured_prompt: expect.objectContaining({ short_description: expect.stringContaining('Spring launch') }),
	});

	const [submit] = acceptedSubmits(sim, 'submitImage');
	expect(body(submit)).toEqual({
		tailored_model_id: '101',
		prompt: 'Hero image for the article "Spring launch". Our new mug in pastel colours.',
		aspect_ratio: '16:9',
		sync: false,
	});
	expect(submit.requestId).toBe(answer.request_id);
	// The node downloaded the image too (binary output for the next node), and the URL it returned works.
	expect(requestsTo(sim, 'image').map((entry) => entry.requestId)).toEqual([answer.request_id]);
	const image = await request(answer.image_url as string);
	expect(pngDimensions(Buffer.from(await image.body.arrayBuffer()))).toEqual({ width: 1024, height: 576 });
	expectTokenOnlyOnApiHost(sim);
});

test('three CMS events at once each get their own image', async () => {
	const titles = ['Autumn sale', 'New store opening', 'Holiday gift guide'];
	const responses = await Promise.all(
		titles.map((title) => postJson('/webhook/bria-cms-event', { event: 'entry.publish', entry: { title, summary: 'Short summary.' } })),
	);
	const answers = responses.map((response) => {
		expect(response.status).toBe(200);
		return JSON.parse(response.bytes.toString('utf8')) as { request_id: string; structured_prompt: { short_description: string } };
	});
	expect(new Set(answers.map((answer) => answer.request_id)).size).toBe(3);
	answers.forEach((answer, index) => expect(answer.structured_prompt.short_description).toContain(titles[index]));
	expect(acceptedSubmits(sim, 'submitImage')).toHaveLength(3);
});

test('a webhook can answer with the PNG itself (Respond to Webhook → binary)', async () => {
	const response = await postJson('/webhook/bria-e2e-image', { prompt: 'A teal teapot' });
	expect(response.status).toBe(200);
	expect(String(response.headers['content-type'])).toMatch(/^image\/png/);
	expect(pngDimensions(response.bytes)).toEqual({ width: 1024, height: 683 }); // 3:2

	const [submit] = acceptedSubmits(sim, 'submitImage');
	expect(body(submit)).toMatchObject({ tailored_model_id: '106', prompt: 'A teal teapot', aspect_ratio: '3:2' });
	// Byte for byte what Bria stored for that job.
	const stored = await request(`${sim.imageBaseUrl}/results/${submit.requestId as string}.png`);
	expect(Buffer.from(await stored.body.arrayBuffer()).equals(response.bytes)).toBe(true);
});

test('a Form Trigger: the page is served and a submission renders the image', async () => {
	const page = await request(`${running.baseUrl}/form/bria-brand-image`);
	expect(page.statusCode).toBe(200);
	expect(await page.body.text()).toContain('Request an on-brand image');

	// What the browser sends: multipart fields named after the form's field order.
	const fields = new FormData();
	fields.append('field-0', 'Our pastel mug on a marble counter');
	fields.append('field-1', '9:16');
	const submitted = await request(`${running.baseUrl}/form/bria-brand-image`, {
		method: 'POST',
		body: fields,
		headersTimeout: 60_000,
		bodyTimeout: 60_000,
	});
	await submitted.body.arrayBuffer();
	// "Workflow Finishes" response mode: the answer comes once the Bria node is done.
	expect(submitted.statusCode).toBe(200);

	const [submit] = acceptedSubmits(sim, 'submitImage');
	expect(body(submit)).toEqual({ tailored_model_id: '102', prompt: 'Our pastel mug on a marble counter', aspect_ratio: '9:16', sync: false });
	expect(requestsTo(sim, 'image').map((entry) => entry.requestId)).toEqual([submit.requestId]);
	expectTokenOnlyOnApiHost(sim);
});

test('the API token never appears in n8n\'s console output', () => {
	expect(running.output()).toContain('Editor is now accessible');
	expect(running.output().includes(TOKEN)).toBe(false);
});
