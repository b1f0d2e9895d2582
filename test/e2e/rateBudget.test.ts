/**
 * One rate budget per Bria organization, shared by every execution of a real n8n (`n8n start`,
 * regular mode): concurrent webhook executions, one item each, against a simulator that limits
 * each endpoint as Bria does. With the plan on the credential, none of them meets a 429 and none
 * fails; the second wave waits for Bria's window instead of being refused.
 */
import { randomUUID } from 'node:crypto';

import { request } from 'undici';

import { BriaSimulator } from '../simulator/BriaSimulator';
import type { N8nInstance, RunningN8n, WorkflowFile } from '../../scripts/lib/n8n';
import { briaCredential, briaNode, linearWorkflow, modelById, workflowId } from '../../scripts/lib/workflows';
import { acceptedSubmits, expectTokenOnlyOnApiHost, newInstance, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

/** Bria's limit per endpoint per minute in this test (the Free plan is 10; smaller keeps it short). */
const PLAN_PER_MINUTE = 3;
/** Twice the plan: the second wave needs Bria's next window. */
const EXECUTIONS = 2 * PLAN_PER_MINUTE;

const CREDENTIAL = { id: 'briaE2eRateBudget1', name: 'Bria API (plan set)' };

const hook: WorkflowFile = linearWorkflow(workflowId('rateHook'), 'e2e: one image per webhook call', [
	{
		id: randomUUID(),
		name: 'Image Request',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		position: [0, 0],
		webhookId: randomUUID(),
		parameters: { httpMethod: 'POST', path: 'bria-e2e-rate', responseMode: 'lastNode', options: {} },
	},
	briaNode(
		'Generate',
		{
			resource: 'image',
			operation: 'generate',
			model: modelById(101),
			inputMode: 'prompt',
			prompt: '={{ $json.body.prompt }}',
			waitForCompletion: true,
			options: { downloadImage: false },
		},
		CREDENTIAL,
	),
]);

let sim: BriaSimulator;
let n8n: N8nInstance;
let running: RunningN8n;

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 2_000, rateLimitPerMinute: PLAN_PER_MINUTE, retryAfterHeader: true });
	n8n = await newInstance();
	const credential = briaCredential(CREDENTIAL.id, TOKEN, sim.baseUrl, CREDENTIAL.name);
	await n8n.importCredentials([{ ...credential, data: { ...credential.data, requestsPerMinute: PLAN_PER_MINUTE } }]);
	await n8n.importWorkflows([hook]);
	await n8n.activate(hook.id);
	running = await n8n.start();
}, SETUP_TIMEOUT_MS);

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
		headersTimeout: 170_000,
		bodyTimeout: 170_000,
	});
	return { status: response.statusCode, json: JSON.parse(await response.body.text()) as Record<string, unknown>, at: Date.now() };
}

test(`${EXECUTIONS} webhook executions at once share the credential's plan: 0 failed, no 429`, async () => {
	sim.reset();
	const started = Date.now();
	const prompts = Array.from({ length: EXECUTIONS }, (_, index) => `Poster ${index + 1}`);
	const responses = await Promise.all(prompts.map((prompt) => postJson('/webhook/bria-e2e-rate', { prompt })));

	for (const response of responses) {
		expect(response.status).toBe(200);
		expect(response.json).toMatchObject({ status: 'COMPLETED', request_id: expect.any(String), image_url: expect.any(String) });
	}
	// Each execution got its own job, each billed once.
	expect(new Set(responses.map((response) => response.json.request_id)).size).toBe(EXECUTIONS);
	expect(acceptedSubmits(sim, 'submitImage')).toHaveLength(EXECUTIONS);
	const api = sim.log.filter((entry) => entry.host === 'api');
	expect(api.filter((entry) => entry.status === 429)).toEqual([]);
	// The first wave answered long before Bria's window let the second one in (the physics: a minute).
	const answeredAfter = responses.map((response) => response.at - started).sort((a, b) => a - b);
	expect(answeredAfter[PLAN_PER_MINUTE - 1]).toBeLessThan(30_000);
	expect(answeredAfter[EXECUTIONS - 1]).toBeGreaterThanOrEqual(55_000);
	expectTokenOnlyOnApiHost(sim);
});
