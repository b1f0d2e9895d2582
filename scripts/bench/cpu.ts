/**
 * Part 4: CPU the node's process spends per item. Workloads:
 * - node, network taken out (in-memory HTTP), the figure the target is judged on: the node's
 *   execute in n8n-core's real ExecuteContext, whose two request helpers answer from memory like
 *   Bria (inMemory.ts), downloadImage on and off, many items at high concurrency so the
 *   scheduler's poll waits overlap; nothing subtracted;
 * - node through n8n's HTTP helpers (context: what a run costs with the helpers the node must
 *   use), against the simulator in its own process (its CPU is not counted), 0 s jobs:
 *   submit + status per item, and submit only (Wait for Completion off);
 * - harness baseline: items that fail the node's validation, so no request is sent: the engine's
 *   own per-item cost (parameter resolution, output items) that any node pays;
 * - n8n's request helper alone: the same two requests through n8n-core's httpRequest, no credential;
 * - raw node:http: the same two requests per item with no n8n at all, over one keep-alive agent
 *   (a floor for any client) and with a new connection per request (as n8n's helper does).
 * Each is warmed up once and measured a few times; the median counts.
 */
import http from 'node:http';

// Not in n8n-core's public index: the plain request helper nodes reach as this.helpers.httpRequest.
import { httpRequest } from 'n8n-core/dist/execution-engine/node-execution-context/utils/request-helper-functions';

import { runBriaNode } from '../../test/harness/runNode';
import type { RunResult } from '../../test/harness/runNode';
import { failedItems, generateImages, inputItems, median, progress, sleep } from './common';
import { runInMemory } from './inMemory';
import { SimProcess } from './simClient';
import type { CpuKind, CpuResult, CpuRow } from './types';

const ITEMS = 200;
const CONCURRENCY = 20;
const REPEATS = 3;
// In-memory runs wait out the scheduler's first poll delay (1.5 s) per wave: 500 items 50 at a
// time make ten overlapping waves, about 15 s a run, almost all of it asleep.
const MEMORY_ITEMS = 500;
const MEMORY_CONCURRENCY = 50;

type Workload = {
	workload: string;
	kind: CpuKind;
	items: number;
	concurrency: number;
	requestsPerItem: number;
	run: (items: number) => Promise<void>;
};

function gc(): void {
	(globalThis as { gc?: () => void }).gc?.();
}

type Sample = { totalMs: number; systemMs: number };

/** Per-item CPU (user + system, and system alone) of one call of `run`, in ms. */
async function cpuPerItem(run: (items: number) => Promise<void>, items: number): Promise<Sample> {
	gc();
	await sleep(50);
	const before = process.cpuUsage();
	await run(items);
	const used = process.cpuUsage(before);
	return { totalMs: (used.user + used.system) / 1000 / items, systemMs: used.system / 1000 / items };
}

function expectOutcome(label: string, result: RunResult, items: number, failed: number): void {
	const actual = failedItems(result, items);
	if (actual !== failed) throw new Error(`cpu: "${label}" expected ${failed} failed items, got ${actual}: ${result.error?.message ?? ''}`);
}

/** POST submit then GET status, per item, `CONCURRENCY` at a time, over one keep-alive agent or a new connection each. */
async function rawHttp(sim: SimProcess, items: number, keepAlive: boolean): Promise<void> {
	const agent = new http.Agent({ keepAlive, maxSockets: CONCURRENCY });
	const call = (method: string, path: string, body?: string) =>
		new Promise<string>((resolve, reject) => {
			const request = http.request(
				`${sim.baseUrl}${path}`,
				{ method, agent, timeout: 10_000, headers: { api_token: sim.token, 'Content-Type': 'application/json' } },
				(response) => {
					let text = '';
					response.setEncoding('utf8');
					response.on('data', (chunk: string) => (text += chunk));
					response.on('end', () => resolve(text));
					response.on('error', reject);
				},
			);
			request.on('timeout', () => request.destroy(new Error('timeout')));
			request.on('error', reject);
			request.end(body);
		});
	let next = 0;
	const worker = async () => {
		while (next < items) {
			next++;
			const accepted = JSON.parse(await call('POST', '/v2/image/generate/tailored', JSON.stringify({ tailored_model_id: '101', prompt: 'bench raw' }))) as { request_id: string };
			await call('GET', `/v2/status/${accepted.request_id}`);
		}
	};
	try {
		await Promise.all(Array.from({ length: CONCURRENCY }, worker));
	} finally {
		agent.destroy();
	}
}

/** The same two requests through n8n's plain request helper (what the node's calls end in), token set by hand. */
async function n8nHelper(sim: SimProcess, items: number): Promise<void> {
	const common = {
		headers: { api_token: sim.token, Accept: 'application/json' },
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		disableFollowRedirect: true,
		timeout: 10_000,
	};
	let next = 0;
	const worker = async () => {
		while (next < items) {
			next++;
			const accepted = (await httpRequest({
				...common,
				method: 'POST',
				url: `${sim.baseUrl}/v2/image/generate/tailored`,
				body: { tailored_model_id: '101', prompt: 'bench helper' },
			})) as { body: { request_id: string } };
			await httpRequest({ ...common, method: 'GET', url: `${sim.baseUrl}/v2/status/${accepted.body.request_id}` });
		}
	};
	await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Items whose prompt the node reads through an expression (`={{ $json.prompt }}`), as a real workflow would. */
function promptItems(count: number) {
	return Array.from({ length: count }, (_, index) => ({ json: { index, prompt: `a ceramic coffee mug on a wooden table, shot ${index}` } }));
}

/** The node with in-memory HTTP; checks every item completed with exactly the requests expected. */
function inMemoryNode(download: boolean) {
	const label = `in-memory, downloadImage ${download ? 'on' : 'off'}`;
	return async (items: number) => {
		const parameters = generateImages('={{ $json.prompt }}', { downloadImage: download, concurrency: MEMORY_CONCURRENCY });
		const { items: output, counts } = await runInMemory(parameters, promptItems(items));
		const completed = output.filter((item) => item.json.status === 'COMPLETED' && (!download || item.binary?.data)).length;
		if (output.length !== items || completed !== items) {
			throw new Error(`cpu: "${label}" completed ${completed} of ${items} items: ${String(output.find((item) => item.json.error)?.json.error ?? '')}`);
		}
		if (counts.submit !== items || counts.status !== items || counts.image !== (download ? items : 0)) {
			throw new Error(`cpu: "${label}" made unexpected requests: ${JSON.stringify(counts)} for ${items} items`);
		}
	};
}

export async function measureCpu(): Promise<CpuResult> {
	const sim = await SimProcess.start({ jobMs: 0 });
	const node = (label: string, parameters: ReturnType<typeof generateImages>, failing: boolean) => async (items: number) => {
		const result = await runBriaNode({ credentials: sim.credentials, items: inputItems(items), continueOnFail: true, parameters });
		expectOutcome(label, result, items, failing ? items : 0);
	};
	const memory = { kind: 'node-in-memory' as const, items: MEMORY_ITEMS, concurrency: MEMORY_CONCURRENCY };
	const viaSim = { items: ITEMS, concurrency: CONCURRENCY };
	const workloads: Workload[] = [
		{ ...memory, workload: 'node, network taken out (in-memory HTTP), downloadImage on', requestsPerItem: 3, run: inMemoryNode(true) },
		{ ...memory, workload: 'node, network taken out (in-memory HTTP), downloadImage off', requestsPerItem: 2, run: inMemoryNode(false) },
		{
			...viaSim,
			kind: 'node-http',
			workload: "node via n8n's HTTP helpers: submit + status",
			requestsPerItem: 2,
			run: node('full', generateImages('bench cpu', { downloadImage: false, concurrency: CONCURRENCY }), false),
		},
		{
			...viaSim,
			kind: 'node-http',
			workload: "node via n8n's HTTP helpers: submit only (no wait)",
			requestsPerItem: 1,
			run: async (items) => {
				const parameters = { ...generateImages('bench cpu', { downloadImage: false, concurrency: CONCURRENCY }), waitForCompletion: false };
				const result = await runBriaNode({ credentials: sim.credentials, items: inputItems(items), continueOnFail: true, parameters });
				if (result.error || result.items.filter((item) => item.json.status === 'IN_PROGRESS').length !== items) throw new Error('cpu: "submit only" did not submit every item');
			},
		},
		// Guidance scale 99 fails the node's own validation (n8n's workflow check passes it): no request is sent.
		{
			...viaSim,
			kind: 'baseline',
			workload: 'harness baseline (no request)',
			requestsPerItem: 0,
			run: node('baseline', generateImages('bench cpu', { concurrency: CONCURRENCY, guidanceScale: 99 }), true),
		},
		{ ...viaSim, kind: 'http', workload: "n8n's httpRequest helper alone (no node, no credential)", requestsPerItem: 2, run: (items) => n8nHelper(sim, items) },
		{ ...viaSim, kind: 'http', workload: 'raw node:http, keep-alive (no n8n)', requestsPerItem: 2, run: (items) => rawHttp(sim, items, true) },
		// n8n's request helper builds a new agent per request: every request opens a new connection.
		{ ...viaSim, kind: 'http', workload: 'raw node:http, new connection per request', requestsPerItem: 2, run: (items) => rawHttp(sim, items, false) },
	];
	const baseline = workloads.find((w) => w.kind === 'baseline')!;
	const full = workloads.find((w) => w.kind === 'node-http')!;
	try {
		progress(
			`cpu: ${workloads.length} workloads × (1 warm-up + ${REPEATS} runs): in-memory ${MEMORY_ITEMS} items at concurrency ${MEMORY_CONCURRENCY} (≈ 15 s a run, mostly poll waits); simulator ${ITEMS} items, 0 s jobs, concurrency ${CONCURRENCY}`,
		);
		for (const { run, items } of workloads) await run(items / 4);
		const repeats = new Map<string, Sample[]>(workloads.map(({ workload }) => [workload, []]));
		// Interleaved, so a slow moment on the machine does not hit one workload only.
		for (let r = 0; r < REPEATS; r++) {
			for (const { workload, run, items } of workloads) repeats.get(workload)!.push(await cpuPerItem(run, items));
		}
		const before = (await sim.log()).entries.length;
		await baseline.run(10);
		if ((await sim.log()).entries.length !== before) throw new Error('cpu: the baseline workload sent requests');
		const rows: CpuRow[] = workloads.map(({ workload, kind, items, concurrency, requestsPerItem }) => {
			const samples = repeats.get(workload)!;
			const medianMs = median(samples.map((sample) => sample.totalMs));
			// System CPU of the median repeat: file writes and sockets show there, JavaScript in user time.
			const systemMs = samples.find((sample) => sample.totalMs === medianMs)!.systemMs;
			return { workload, kind, items, concurrency, requestsPerItem, repeatsMs: samples.map((sample) => sample.totalMs), medianMs, systemMs };
		});
		const medianOf = (workload: Workload) => rows.find((row) => row.workload === workload.workload)!.medianMs;
		// The worse of the in-memory variants is the one judged.
		const inMemoryMs = Math.max(...rows.filter((row) => row.kind === 'node-in-memory').map((row) => row.medianMs));
		const totalMs = medianOf(full);
		progress(`cpu: node with in-memory HTTP ${inMemoryMs.toFixed(2)} ms/item; via n8n's helpers ${totalMs.toFixed(2)} ms/item, baseline ${medianOf(baseline).toFixed(2)} ms/item`);
		return { items: ITEMS, concurrency: CONCURRENCY, rows, inMemoryMs, totalMs, nodeShareMs: totalMs - medianOf(baseline) };
	} finally {
		await sim.stop();
	}
}
