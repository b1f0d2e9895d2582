/**
 * n8n's own scaling mode with real parts: Debian's Redis and PostgreSQL (installed and started by
 * scripts/lib/services.ts on 127.0.0.1, throwaway data), n8n 2.x with EXECUTIONS_MODE=queue,
 * a main (`n8n start`, which takes the webhooks and enqueues them) and two `n8n worker` processes
 * (which run the executions), binary data in the database. Which worker ran an execution is read
 * from the worker's own log ("Worker started execution <id>"), the execution id from the answer.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';

import { FormData, request } from 'undici';

import { N8nInstance, queueModeEnv } from '../../scripts/lib/n8n';
import type { OwnerSession, RunningN8n, WorkflowFile, WorkflowNode } from '../../scripts/lib/n8n';
import { installServices, startPostgres, startRedis } from '../../scripts/lib/services';
import type { Postgres, Service } from '../../scripts/lib/services';
import { sleep, waitFor } from '../../scripts/lib/processes';
import { briaCredential, briaNode, linearWorkflow, modelById, workflowId } from '../../scripts/lib/workflows';
import { BriaSimulator, pngDimensions } from '../simulator/BriaSimulator';
import { brandImageFormWorkflow } from './fixtures';
import { acceptedSubmits, body, expectTokenOnlyOnApiHost, SETUP_TIMEOUT_MS, sharedInstall, TOKEN } from './helpers';

const CREDENTIAL = { id: 'briaE2eQueue00001', name: 'Bria API (queue e2e)' };
const WORKER_CONCURRENCY = 2;
const BURST = 8;

function webhook(name: string, hookPath: string, responseMode: 'responseNode' | 'onReceived'): WorkflowNode {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		position: [0, 0],
		webhookId: randomUUID(),
		parameters: { httpMethod: 'POST', path: hookPath, responseMode, options: {} },
	};
}

const generate = (options: Record<string, unknown> = {}) => ({
	resource: 'image',
	operation: 'generate',
	model: modelById(106),
	inputMode: 'prompt',
	prompt: '={{ $json.body.prompt }}',
	waitForCompletion: true,
	options: { aspectRatio: '1:1', ...options },
});

/** Webhook → Bria Tailored → Respond to Webhook with the PNG, its request_id and the execution id in headers. */
const imageHook: WorkflowFile = linearWorkflow(workflowId('queueImage'), 'e2e queue: webhook answering with the PNG', [
	webhook('Image Request', 'bria-queue-image', 'responseNode'),
	briaNode('Generate', generate(), CREDENTIAL),
	{
		id: randomUUID(),
		name: 'Respond With Image',
		type: 'n8n-nodes-base.respondToWebhook',
		typeVersion: 1.1,
		position: [0, 0],
		parameters: {
			respondWith: 'binary',
			responseDataSource: 'set',
			inputFieldName: 'data',
			options: {
				responseHeaders: {
					entries: [
						{ name: 'x-request-id', value: '={{ $json.request_id }}' },
						{ name: 'x-execution-id', value: '={{ $execution.id }}' },
					],
				},
			},
		},
	},
]);

/** Answers at once; the Bria wait then runs on a worker until stopped (or Max Wait Time, 120 s). */
const longWait = linearWorkflow(workflowId('queueStop'), 'e2e queue: a long Bria wait', [
	webhook('Start', 'bria-queue-stop', 'onReceived'),
	briaNode('Generate', generate({ maxWaitTime: 120, downloadImage: false }), CREDENTIAL),
]);

/** The workflow's own timeout (4 s) is far below the node's Max Wait Time (60 s). */
const WORKFLOW_TIMEOUT_S = 4;
const timedOut = linearWorkflow(workflowId('queueTimeout'), 'e2e queue: workflow timeout', [
	webhook('Start', 'bria-queue-timeout', 'onReceived'),
	briaNode('Generate', generate({ maxWaitTime: 60, downloadImage: false }), CREDENTIAL),
]);
timedOut.settings = { ...timedOut.settings, executionTimeout: WORKFLOW_TIMEOUT_S };
/*
 * Who ends that wait: n8n 2.41 (checked: 2.41.1) cancels the execution on the worker itself when the
 * timeout is reached (a timer, as in regular mode), and the node bounds its own wait by the same
 * timeout counted from when it starts, a few ms later: whichever fires first ends it (both seen).
 * 2.35 (checked: 2.35.7) checked the timeout only between nodes: the node's own bound ended the
 * wait. Versions between were not checked.
 */
const WORKER_CANCELS_AT_TIMEOUT = ((version) => version[0] > 2 || (version[0] === 2 && version[1] >= 41))(
	sharedInstall().install.version.split('.').map(Number),
);

/*
 * The organization's rate budget lives in each n8n process (module state), so two workers hold two
 * budgets that cannot see each other. The credential states the organization's whole plan, as the
 * README says (no dividing by workers): each worker starts at half of it and grows by slow start,
 * and a 429 tells it someone else uses the rest. Here Bria (a second simulator: its own
 * organization) allows 10 requests per endpoint per minute and the credential says 10.
 */
const ORGANIZATION_LIMIT = 10;
const BUDGET_BURST = 20;
const BUDGET_CREDENTIAL = { id: 'briaE2eQueue00002', name: 'Bria API (queue e2e, whole plan on 2 workers)' };
const budgetHook: WorkflowFile = linearWorkflow(workflowId('queueBudget'), 'e2e queue: rate budget per worker', [
	webhook('Budget Request', 'bria-queue-budget', 'responseNode'),
	briaNode('Generate', { ...generate({ downloadImage: false }) }, BUDGET_CREDENTIAL),
	{
		id: randomUUID(),
		name: 'Respond With Job',
		type: 'n8n-nodes-base.respondToWebhook',
		typeVersion: 1.1,
		position: [0, 0],
		parameters: {
			respondWith: 'firstIncomingItem',
			options: { responseHeaders: { entries: [{ name: 'x-execution-id', value: '={{ $execution.id }}' }] } },
		},
	},
]);

const form = brandImageFormWorkflow(workflowId('queueForm'), CREDENTIAL, 102);

let redis: Service | undefined;
let postgres: Postgres | undefined;
let sim: BriaSimulator;
let limitedSim: BriaSimulator;
let n8n: N8nInstance | undefined;
let main: RunningN8n | undefined;
let workers: RunningN8n[] = [];
let session: OwnerSession;

beforeAll(async () => {
	const started = Date.now();
	const binaries = await installServices();
	[redis, postgres] = await Promise.all([startRedis(binaries), startPostgres(binaries)]);
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 1500 });
	limitedSim = await BriaSimulator.start({ token: TOKEN, jobMs: 300, jitterMs: 0, rateLimitPerMinute: ORGANIZATION_LIMIT });
	const { install, tarball } = sharedInstall();
	n8n = await N8nInstance.create({ install, tarball, env: queueModeEnv({ redisPort: redis.port, postgres }) });
	await n8n.importCredentials([
		briaCredential(CREDENTIAL.id, TOKEN, sim.baseUrl, CREDENTIAL.name),
		{ ...briaCredential(BUDGET_CREDENTIAL.id, TOKEN, limitedSim.baseUrl, BUDGET_CREDENTIAL.name), data: { apiToken: TOKEN, baseUrl: limitedSim.baseUrl, requestsPerMinute: ORGANIZATION_LIMIT } },
	]);
	const workflows = [imageHook, longWait, timedOut, form, budgetHook];
	await n8n.importWorkflows(workflows);
	main = await n8n.start();
	workers = await Promise.all([1, 2].map(async () => await n8n!.startWorker({ concurrency: WORKER_CONCURRENCY })));
	session = await main.setupOwner();
	// Published through the REST API, as the editor's Publish button does: one CLI boot per
	// workflow (publish:workflow) costs far more on a busy machine.
	for (const workflow of workflows) await publish(workflow.id);
	process.stderr.write(`[queue e2e] Redis, Postgres, main and 2 workers ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}, SETUP_TIMEOUT_MS);

beforeEach(() => sim.reset());

afterAll(async () => {
	await Promise.all([...workers, main].map(async (process) => await process?.stop()));
	await sim?.stop();
	await limitedSim?.stop();
	await Promise.all([redis?.stop(), postgres?.stop()]);
	await n8n?.dispose();
}, 120_000);

/** Which worker (0 or 1) started an execution, from the workers' own logs. */
function workerOf(executionId: string): number | undefined {
	const line = new RegExp(`Worker started execution ${executionId} \\(`);
	const index = workers.findIndex((worker) => line.test(worker.output()));
	return index === -1 ? undefined : index;
}

/**
 * Whether a worker is done with an execution, by its own log: "Worker finished execution <id>" for
 * a run that ended on its own; from n8n 2.41 a stopped or timed-out run ends with the job's error
 * instead, "Worker errored while running execution <id>" (2.35 logged "finished" for those too).
 */
function finishedOn(worker: RunningN8n, executionId: string): boolean {
	return new RegExp(`Worker (finished|errored while running) execution ${executionId} \\(`).test(worker.output());
}

/** Executions the workers started, newest last, as [executionId, worker]. */
function startedExecutions(): Array<[string, number]> {
	return workers.flatMap((worker, index) =>
		[...worker.output().matchAll(/Worker started execution (\d+) \(/g)].map((match): [string, number] => [match[1], index]),
	);
}

async function post(hookPath: string, payload: unknown) {
	const response = await request(`${main!.baseUrl}${hookPath}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(payload),
		headersTimeout: 120_000,
		bodyTimeout: 120_000,
	});
	return { status: response.statusCode, headers: response.headers, bytes: Buffer.from(await response.body.arrayBuffer()) };
}

async function rest(method: 'GET' | 'POST', restPath: string, payload?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
	const response = await request(`${main!.baseUrl}/rest${restPath}`, {
		method,
		headers: { ...session.headers, 'content-type': 'application/json' },
		body: payload === undefined ? undefined : JSON.stringify(payload),
	});
	const text = await response.body.text();
	return { status: response.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function publish(workflowId: string): Promise<void> {
	const { json } = await rest('GET', `/workflows/${workflowId}`);
	const versionId = (json.data as { versionId: string }).versionId;
	const published = await rest('POST', `/workflows/${workflowId}/activate`, { versionId });
	if (published.status !== 200) throw new Error(`publishing ${workflowId} failed: HTTP ${published.status} ${JSON.stringify(published.json).slice(0, 300)}`);
}

/** An execution as the editor reads it; its run data is stored "flatted" (n8n's own package parses it). */
async function execution(executionId: string): Promise<{ status: string; runData: Record<string, Array<{ error?: { message?: string } }>> }> {
	const { json } = await rest('GET', `/executions/${executionId}`);
	const data = json.data as { status: string; data: string };
	const { install } = sharedInstall();
	const n8nModules = path.join(install.cacheDir, `n8n-${install.version}`, 'node_modules');
	const flatted = createRequire(path.join(n8nModules, 'n8n', 'package.json'))('flatted') as { parse: (text: string) => unknown };
	const run = flatted.parse(data.data) as { resultData: { runData: Record<string, Array<{ error?: { message?: string } }>> } };
	return { status: data.status, runData: run.resultData.runData };
}

/** Starts a long-waiting execution and returns its id and worker once its first status check reached Bria. */
async function startLongExecution(hookPath: string): Promise<{ executionId: string; worker: number }> {
	const before = new Set(startedExecutions().map(([id]) => id));
	sim.planJobs({ outcome: 'NEVER' });
	const answer = await post(hookPath, { prompt: 'A lighthouse at dusk' });
	expect(answer.status).toBe(200);
	const [executionId, worker] = await waitFor('a worker to start the execution', 30_000, async () =>
		startedExecutions().find(([id]) => !before.has(id)),
	);
	await waitFor('the first status check', 30_000, async () => (sim.requests('status').length > 0 ? true : undefined));
	return { executionId, worker };
}

test(`a burst of ${BURST} webhook executions is spread over both workers, each answered with its own PNG and request_id`, async () => {
	const started = Date.now();
	const answers = await Promise.all(
		Array.from({ length: BURST }, async (_, index) => await post('/webhook/bria-queue-image', { prompt: `Product shot number ${index}` })),
	);
	const wallMs = Date.now() - started;

	const byWorker = [0, 0];
	const compared = new Set<number>();
	for (const answer of answers) {
		expect(answer.status).toBe(200);
		expect(String(answer.headers['content-type'])).toMatch(/^image\/png/);
		const size = pngDimensions(answer.bytes);
		expect(size?.width).toBe(size?.height); // 1:1 asked
		const requestId = String(answer.headers['x-request-id']);
		const worker = workerOf(String(answer.headers['x-execution-id']));
		expect(worker).toBeDefined();
		byWorker[worker!]++;
		// Byte for byte the image Bria stored for the job: the binary crossed worker → database → main
		// intact. Once per worker: the simulator draws each 1024 px picture anew, which costs CPU.
		if (compared.has(worker!)) continue;
		compared.add(worker!);
		const stored = await request(`${sim.imageBaseUrl}/results/${requestId}.png`);
		expect(Buffer.from(await stored.body.arrayBuffer()).equals(answer.bytes)).toBe(true);
	}
	// Every answer is its own picture (each prompt draws a different one).
	expect(new Set(answers.map((answer) => answer.bytes.toString('base64'))).size).toBe(BURST);
	const requestIds = answers.map((answer) => String(answer.headers['x-request-id']));
	expect(new Set(requestIds).size).toBe(BURST);
	// Every prompt was submitted exactly once, and each answer carries its own job.
	const submits = acceptedSubmits(sim, 'submitImage');
	expect(submits.map((entry) => body(entry).prompt).sort()).toEqual(Array.from({ length: BURST }, (_, i) => `Product shot number ${i}`).sort());
	expect(submits.map((entry) => entry.requestId).sort()).toEqual([...requestIds].sort());
	// Both workers ran some (each takes at most WORKER_CONCURRENCY at a time, so one cannot take all at once).
	expect(byWorker[0]).toBeGreaterThan(0);
	expect(byWorker[1]).toBeGreaterThan(0);
	expectTokenOnlyOnApiHost(sim);
	process.stderr.write(`[queue e2e] burst of ${BURST}: wall ${(wallMs / 1000).toFixed(1)} s, by worker ${byWorker.join(' / ')}\n`);
});

test('a Form Trigger submission is run by a worker and renders the image', async () => {
	const page = await request(`${main!.baseUrl}/form/bria-brand-image`);
	expect(page.statusCode).toBe(200);
	expect(await page.body.text()).toContain('Request an on-brand image');

	const before = new Set(startedExecutions().map(([id]) => id));
	const fields = new FormData();
	fields.append('field-0', 'Our pastel mug on a marble counter');
	fields.append('field-1', '9:16');
	const submitted = await request(`${main!.baseUrl}/form/bria-brand-image`, { method: 'POST', body: fields, headersTimeout: 60_000, bodyTimeout: 60_000 });
	await submitted.body.arrayBuffer();
	expect(submitted.statusCode).toBe(200);

	const [submit] = acceptedSubmits(sim, 'submitImage');
	expect(body(submit)).toEqual({ tailored_model_id: '102', prompt: 'Our pastel mug on a marble counter', aspect_ratio: '9:16', sync: false });
	expect(sim.requests('image').map((entry) => entry.requestId)).toEqual([submit.requestId]);
	expect(startedExecutions().filter(([id]) => !before.has(id))).toHaveLength(1);
});

test('Stop in the main ends a Bria wait running on a worker within a few seconds; nothing is sent to Bria afterwards', async () => {
	const { executionId, worker } = await startLongExecution('/webhook/bria-queue-stop');

	const stoppedAt = Date.now();
	const stop = await rest('POST', `/executions/${executionId}/stop`);
	expect(stop.status).toBe(200);
	await waitFor('the worker to finish the stopped execution', 15_000, async () => (finishedOn(workers[worker], executionId) ? true : undefined), 100);
	const endedMs = Date.now() - stoppedAt;
	expect(endedMs).toBeLessThan(5_000);

	// Well past the next poll (≈2 s): a wait that was not really stopped would show up here.
	const sent = sim.requests().length;
	await sleep(4_000);
	expect(sim.requests().slice(sent)).toEqual([]);
	expect(sim.requests().filter((entry) => entry.at > stoppedAt + 1_000)).toEqual([]);
	expect((await execution(executionId)).status).toBe('canceled');
	process.stderr.write(`[queue e2e] Stop → execution ended on worker ${worker} after ${endedMs} ms\n`);
});

test(`the workflow's timeout (${WORKFLOW_TIMEOUT_S} s) ends a Bria wait on a worker, not Max Wait Time (60 s), and the error keeps the request_id`, async () => {
	const startedAt = Date.now();
	const { executionId, worker } = await startLongExecution('/webhook/bria-queue-timeout');
	await waitFor('the worker to end the execution', 30_000, async () => (finishedOn(workers[worker], executionId) ? true : undefined), 100);
	const endedMs = Date.now() - startedAt;
	expect(endedMs).toBeLessThan((WORKFLOW_TIMEOUT_S + 5) * 1000);

	const [job] = [...sim.jobs.keys()];
	const sent = sim.requests().length;
	await sleep(3_000);
	expect(sim.requests().slice(sent)).toEqual([]);

	const { status, runData } = await execution(executionId);
	const { message, description, context } = (runData.Generate?.[0]?.error ?? {}) as { message?: string; description?: string; context?: unknown };
	if (WORKER_CANCELS_AT_TIMEOUT && status === 'canceled') {
		// n8n's cancel came first, so the node's wait ended as a stopped one does: the error it
		// leaves names the job, and so does its warning in the worker's log.
		expect(JSON.stringify({ message, description, context })).toContain(job);
		expect(workers[worker].output()).toMatch(new RegExp(`Bria Tailored: the execution was stopped after Bria accepted these jobs.*${job}`));
	} else {
		// The node's own bound came first: always on 2.35; on 2.41 when its timer, started a few ms
		// after n8n's (when the node starts), still fires first.
		expect(message).toBe(`Bria did not finish request ${job} within the workflow's timeout (${WORKFLOW_TIMEOUT_S} s)`);
	}
	process.stderr.write(`[queue e2e] workflow timeout ${WORKFLOW_TIMEOUT_S} s → execution ended on worker ${worker} after ${endedMs} ms\n`);
});

test(`two workers, each stating the whole plan (${ORGANIZATION_LIMIT}/min): a burst of ${BUDGET_BURST} executions all complete, 429s stay under a tenth of the requests, and the plan's two windows suffice`, async () => {
	const started = Date.now();
	const answers = await Promise.all(
		Array.from({ length: BUDGET_BURST }, async (_, index) => await post('/webhook/bria-queue-budget', { prompt: `Budget shot ${index}` })),
	);
	const wallMs = Date.now() - started;
	const workerOfJob = new Map<string, number>();
	for (const answer of answers) {
		expect(answer.status).toBe(200);
		const job = JSON.parse(answer.bytes.toString('utf8')) as { request_id: string; status: string };
		expect(job.status).toBe('COMPLETED');
		const worker = workerOf(String(answer.headers['x-execution-id']));
		expect(worker).toBeDefined();
		workerOfJob.set(job.request_id, worker!);
	}
	expect(workerOfJob.size).toBe(BUDGET_BURST);

	// Each job submitted once (a 429 is not a submit Bria took), whatever the workers' budgets did.
	expect(limitedSim.submits()).toHaveLength(BUDGET_BURST);
	const all = limitedSim.requests();
	const refused = all.filter((entry) => entry.status === 429);
	expect(refused.length / all.length).toBeLessThanOrEqual(0.1);
	// Both workers sent in the first window, and the last submit went in the second: the plan's
	// 20 submits need two windows, no more.
	const submits = limitedSim.requests('submitImage').filter((entry) => entry.status === 202);
	const firstSubmit = submits[0].at;
	const early = submits.filter((entry) => entry.at < firstSubmit + 10_000);
	expect(new Set(early.map((entry) => workerOfJob.get(entry.requestId!))).size).toBe(2);
	expect(submits.at(-1)!.at - firstSubmit).toBeLessThan(2 * 60_000);
	const physicalMs = 60_000 + 300;
	process.stderr.write(
		`[queue e2e] budget: ${BUDGET_BURST} executions, whole plan ${ORGANIZATION_LIMIT}/min stated on both workers: ` +
			`${early.length} submits in the first 10 s (by worker ${[0, 1].map((w) => early.filter((e) => workerOfJob.get(e.requestId!) === w).length).join(' / ')}), ` +
			`${all.length} requests, ${refused.length} × 429 (${refused.map((entry) => entry.route).join(', ') || 'none'}) = ${((100 * refused.length) / all.length).toFixed(1)} %; ` +
			`wall ${(wallMs / 1000).toFixed(1)} s = ${(wallMs / physicalMs).toFixed(2)} × the physical limit (${(physicalMs / 1000).toFixed(1)} s)\n`,
	);
}, 300_000);

test("the API token never appears in the main's or the workers' output", () => {
	for (const process of [main!, ...workers]) expect(process.output().includes(TOKEN)).toBe(false);
	expect(main!.output()).toContain('Editor is now accessible');
});
