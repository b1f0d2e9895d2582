/**
 * Issue 13's scale parts, each variant in its own fresh process, one after another (their CPU
 * and event-loop figures must not carry another run's work):
 * - scale: one execution of many items in n8n's real engine (WorkflowExecute), 10 s jobs
 *   varying ± 10 %, the simulator allowing the plan per endpoint per minute and the plan stated
 *   on the credential, DEFAULT node settings: 300 items at 600/min; 1000 items at 1000/min,
 *   downloads off and on (1000 real PNGs of 1-2 MB into n8n's filesystem binary-data mode). Each
 *   run is stopped at a cap and says how far it got.
 * - singles: 100 single-item executions started at once, 600/min, default settings.
 * Beside the wall and its physical limit: 429s, the event loop's delay during the run, and for
 * 1000 items where the process's CPU went (a sampling profile of the main thread: the node's own
 * code, n8n's request helper with the HTTP stack under it, n8n's binary store, the rest of n8n's
 * engine) and peak RSS above the idle process.
 */
import { Session } from 'node:inspector';

import type { INodeExecutionData } from 'n8n-workflow';

import { runBriaNode } from '../../test/harness/runNode';
import type { RunResult } from '../../test/harness/runNode';
import {
	endLoad,
	errorMessages,
	failedItems,
	generateImages,
	generationStamp,
	keepConsole,
	progress,
	readyThenWait,
	requestCounts,
	sleep,
	withLoopLag,
	withPlan,
} from './common';
import { wallLimitMs, WINDOW_MS } from './limits';
import { SimProcess } from './simClient';
import type { CpuSplit, RssFigures, ScaleResult, ScaleRow, SinglesResult, SinglesRow } from './types';

const JOB_MS = 10_000;
/** Durations vary ± 10 %, as real jobs do. */
const JITTER_MS = JOB_MS / 10;
/** Each run is stopped after this long and reports how far it got (today's node needs ≈ 11 min for 300 items). */
const CAP_MS = 5 * 60_000;
/** Distinct pictures the download variant asks for (prompt i % 16, seed i % 16): the simulator draws each once. */
const PICTURES = 16;
const PROFILE_INTERVAL_US = 1_000;
const RSS_EVERY_MS = 20;

interface ScaleVariant {
	items: number;
	perMinute: number;
	download: boolean;
	/** Where the CPU went (sampling profile): only where the issue asks for it, as profiling costs a little. */
	profile: boolean;
	/**
	 * Jobs of the same kind run first in the same process (then a quiet window, so both lanes start
	 * afresh): the node has learned how long such jobs take, as a process that ran any before has.
	 */
	warmUp?: number;
}

export const SCALE_VARIANTS: Record<string, ScaleVariant> = {
	'300': { items: 300, perMinute: 600, download: false, profile: false },
	'1000': { items: 1000, perMinute: 1000, download: false, profile: true },
	'1000-learned': { items: 1000, perMinute: 1000, download: false, profile: false, warmUp: 60 },
	'1000-downloads': { items: 1000, perMinute: 1000, download: true, profile: true },
};

export const SINGLES_VARIANTS: Record<string, { executions: number; perMinute: number }> = {
	'100': { executions: 100, perMinute: 600 },
};

function gc(): void {
	(globalThis as { gc?: () => void }).gc?.();
}

// ---------- where the CPU went ----------

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string };
	children?: number[];
}

interface CpuProfile {
	nodes: ProfileNode[];
	samples?: number[];
	timeDeltas?: number[];
}

/**
 * Who a stack frame's script belongs to. A sample counts for the innermost frame that belongs to
 * someone: a JSON.parse inside axios is the request helper's, a getNodeParameter called by the
 * node is n8n's engine's, the node's own loop is the node's. n8n-core's request helper includes
 * axios, its agents and Node's HTTP/TLS/net modules under it (socket callbacks included).
 */
function ownerOf(url: string): string | undefined {
	if (url.includes('/nodes/BriaTailored/') || url.includes('/credentials/BriaApi')) return "node's own code";
	if (/request-helper-functions|\/axios\/|\/follow-redirects\/|proxy-agent|\/agent-base\/|\/form-data\/|\/proxy-from-env\//.test(url)) return "n8n's request helper (axios, sockets)";
	if (/^node:(_http|http|https|net|tls|dns)/.test(url) || /^node:internal\/(http|net|tls|dns)/.test(url)) return "n8n's request helper (axios, sockets)";
	if (/binary-data|binary-helper/.test(url) || /^node:(fs|internal\/fs)/.test(url)) return "n8n's binary store";
	if (/\/n8n-core\/|\/n8n-workflow\/|\/@n8n\//.test(url)) return "n8n's engine (parameters, expressions, items)";
	return undefined;
}

function splitProfile(profile: CpuProfile): Record<string, number> {
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const parent = new Map<number, number>();
	for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
	const owners = new Map<number, string | undefined>();
	const owner = (id: number): string | undefined => {
		if (owners.has(id)) return owners.get(id);
		const node = byId.get(id);
		const name = node?.callFrame.functionName ?? '';
		let found: string | undefined;
		if (name === '(idle)') found = 'idle';
		else if (name === '(garbage collector)') found = 'garbage collector';
		else found = ownerOf(node?.callFrame.url ?? '') ?? (parent.has(id) ? owner(parent.get(id) as number) : undefined);
		owners.set(id, found);
		return found;
	};
	const ms: Record<string, number> = {};
	const samples = profile.samples ?? [];
	const deltas = profile.timeDeltas ?? [];
	for (let i = 0; i < samples.length; i++) {
		const who = owner(samples[i]) ?? 'other (harness, timers, V8)';
		if (who === 'idle') continue;
		ms[who] = (ms[who] ?? 0) + Math.max(0, deltas[i] ?? 0) / 1000;
	}
	return ms;
}

async function profiled<T>(enabled: boolean, run: () => Promise<T>): Promise<{ value: T; profile?: CpuProfile }> {
	if (!enabled) return { value: await run() };
	const session = new Session();
	session.connect();
	const post = <R>(method: string, params?: object) =>
		new Promise<R>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as R))));
	await post('Profiler.enable');
	await post('Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_US });
	await post('Profiler.start');
	try {
		const value = await run();
		const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
		return { value, profile };
	} finally {
		session.disconnect();
	}
}

/** Peak RSS while `run` runs, sampled every 20 ms. */
async function peakRss<T>(run: () => Promise<T>): Promise<{ value: T; peak: number }> {
	let peak = process.memoryUsage().rss;
	const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), RSS_EVERY_MS);
	try {
		const value = await run();
		return { value, peak: Math.max(peak, process.memoryUsage().rss) };
	} finally {
		clearInterval(sampler);
	}
}

// ---------- scale: one execution of many items ----------

function scaleItems(count: number, download: boolean): INodeExecutionData[] {
	return Array.from({ length: count }, (_, index) => ({
		json: download ? { index, prompt: `bench scale picture ${index % PICTURES}`, seed: 1_000 + (index % PICTURES) } : { index, prompt: 'bench scale' },
	}));
}

export async function measureScale(variant: string): Promise<ScaleResult> {
	const chosen = SCALE_VARIANTS[variant];
	if (!chosen) throw new Error(`scale: unknown variant "${variant}" (${Object.keys(SCALE_VARIANTS).join(', ')})`);
	const { items, perMinute, download } = chosen;
	// n8n 2.x's default outside queue mode; read once, when the binary-data service starts (below).
	if (download) process.env.N8N_DEFAULT_BINARY_DATA_MODE = 'filesystem';
	let stamp = generationStamp();
	progress(`scale ${variant}: one execution of ${items} items × ${JOB_MS / 1000} s, ${perMinute}/min, plan on the credential, default settings, downloads ${download ? 'on' : 'off'} (${stamp.generation}; capped at ${CAP_MS / 1000} s)`);
	const sim = await SimProcess.start({ jobMs: JOB_MS, jitterMs: JITTER_MS, rateLimitPerMinute: perMinute, retryAfterHeader: true, pictureCache: 2 * PICTURES });
	const restoreConsole = keepConsole();
	try {
		await readyThenWait();
		const { credentials, options, place } = withPlan(sim.credentials, perMinute);
		const parameters = generateImages('={{ $json.prompt }}', download ? { ...options, seed: '={{ $json.seed }}' } : { ...options, downloadImage: false });
		if (chosen.warmUp) {
			const warmUp = Array.from({ length: chosen.warmUp }, (_, index) => ({ json: { index, prompt: 'bench warm-up' } }));
			const warm = await runBriaNode({ credentials, items: warmUp, continueOnFail: true, parameters });
			progress(`scale ${variant}: warm-up of ${chosen.warmUp} jobs done in ${(warm.durationMs / 1000).toFixed(1)} s (${failedItems(warm, chosen.warmUp)} failed); a quiet window follows`);
			await sleep(WINDOW_MS + 2_000);
		}
		// The measured run's requests only (the warm-up's are in the same log).
		const measuredFrom = Date.now();
		gc();
		await sleep(200);
		gc();
		const idle = process.memoryUsage();
		const baselineRss = idle.rss;
		stamp = generationStamp();
		const cpuBefore = process.cpuUsage();
		// The profile outermost: RSS, loop delay and CPU stop being sampled before it is stopped and serialized.
		let cpu = { user: 0, system: 0 };
		// In a function of its own: once it returns, nothing of the run's output is referenced here.
		const row = await (async (): Promise<ScaleRow> => {
			const profiledRun = await profiled(chosen.profile, async () => {
				const inner = await peakRss(() => withLoopLag(() => runBriaNode({ credentials, items: scaleItems(items, download), continueOnFail: true, cancelAfterMs: CAP_MS, parameters })));
				cpu = process.cpuUsage(cpuBefore);
				return inner;
			});
			const measured = profiledRun.value;
			const result: RunResult = measured.value.value;
			const profile = profiledRun.profile;
			const lag = measured.value.lag;
			const fullLog = await sim.log();
			const log = { ...fullLog, entries: fullLog.entries.filter((entry) => entry.at >= measuredFrom) };
			const jobs = log.jobs.filter((job) => job.prompt?.startsWith('bench scale'));
			const failedInOutput = failedItems(result, items);
			const stoppedAtCap = result.durationMs >= CAP_MS;
			// A run stopped at the cap has no output items: count the jobs its status checks found done.
			const detected = new Set(log.entries.filter((entry) => entry.route === 'status' && entry.jobStatus === 'COMPLETED').map((entry) => entry.requestId)).size;
			const completed = stoppedAtCap ? Math.min(detected, items) : items - failedInOutput;
			const failed = items - completed;
			// Jobs that never started (stopped at the cap) take the nominal time: the limit is then the limit for all of them.
			const durations = [...jobs.map((job) => job.durationMs), ...Array(Math.max(0, items - jobs.length)).fill(JOB_MS)];
			const perJob = (ms: number) => ms / Math.max(1, completed);
			const cpuSplit: CpuSplit | undefined = profile
				? {
						totalMsPerJob: perJob((cpu.user + cpu.system) / 1000),
						systemMsPerJob: perJob(cpu.system / 1000),
						sampledMsPerJob: Object.fromEntries(Object.entries(splitProfile(profile)).map(([who, ms]) => [who, perJob(ms)])),
						profileIntervalUs: PROFILE_INTERVAL_US,
						jobs: completed,
					}
				: undefined;
			const binary = result.items.find((item) => item.binary?.data)?.binary?.data;
			const stored = result.items.map((item) => item.binary?.data?.bytes ?? 0).filter((bytes) => bytes > 0);
			const rss: RssFigures = {
				binaryMode: binary ? (binary.id ? binary.id.split(':')[0] : 'default (in memory)') : download ? 'none in the output' : 'downloads off',
				images: stored.length,
				downloads: jobs.reduce((sum, job) => sum + job.downloads, 0),
				imageBytesMean: stored.length ? stored.reduce((sum, bytes) => sum + bytes, 0) / stored.length : 0,
				baselineRss,
				peakRss: measured.peak,
				maxRss: process.resourceUsage().maxRSS * 1024,
			};
			return {
				...endLoad(stamp),
				variant,
				items,
				jobMs: JOB_MS,
				jitterMs: JITTER_MS,
				perMinute,
				plan: place,
				download,
				capMs: CAP_MS,
				stoppedAtCap,
				submitted: jobs.length,
				completed,
				failed,
				wallMs: result.durationMs,
				limitMs: wallLimitMs(durations, perMinute),
				lag,
				cpu: cpuSplit,
				rss,
				...requestCounts(log),
				errors: errorMessages(result),
			};
		})();
		// What the process still holds once the run's output is released and garbage collected:
		// memory that outlives its execution (a download's buffer kept alive by a listener, say).
		gc();
		await sleep(200);
		gc();
		const held = process.memoryUsage();
		if (row.rss) row.rss.retained = { rss: held.rss - idle.rss, arrayBuffers: held.arrayBuffers - idle.arrayBuffers };
		progress(
			`scale ${variant}: ${row.stoppedAtCap ? `not done after ${CAP_MS / 1000} s` : `done in ${(row.wallMs / 1000).toFixed(1)} s`} (${row.submitted} of ${items} submitted, ${row.completed} completed, ${row.throttled} × 429, loop lag p99 ${row.lag?.p99Ms.toFixed(1)} ms, peak RSS +${(((row.rss?.peakRss ?? 0) - baselineRss) / 2 ** 20).toFixed(0)} MiB, still held after the run: RSS +${((held.rss - idle.rss) / 2 ** 20).toFixed(0)} MiB, ArrayBuffers +${((held.arrayBuffers - idle.arrayBuffers) / 2 ** 20).toFixed(0)} MiB)`,
		);
		return { rows: [row] };
	} finally {
		restoreConsole();
		await sim.stop();
	}
}

// ---------- singles: many single-item executions at once ----------

export async function measureSingles(variant: string): Promise<SinglesResult> {
	const chosen = SINGLES_VARIANTS[variant];
	if (!chosen) throw new Error(`singles: unknown variant "${variant}" (${Object.keys(SINGLES_VARIANTS).join(', ')})`);
	const { executions, perMinute } = chosen;
	let stamp = generationStamp();
	progress(`singles ${variant}: ${executions} single-item executions at once, ${JOB_MS / 1000} s jobs, ${perMinute}/min, plan on the credential (${stamp.generation}; capped at ${CAP_MS / 1000} s)`);
	const sim = await SimProcess.start({ jobMs: JOB_MS, jitterMs: JITTER_MS, rateLimitPerMinute: perMinute, retryAfterHeader: true });
	const restoreConsole = keepConsole();
	try {
		await readyThenWait();
		const { credentials, options, place } = withPlan(sim.credentials, perMinute);
		stamp = generationStamp();
		const started = Date.now();
		const answersMs: number[] = [];
		const { value: runs, lag } = await withLoopLag(() =>
			Promise.all(
				Array.from({ length: executions }, async (_, index) => {
					const run = await runBriaNode({
						credentials,
						continueOnFail: true,
						cancelAfterMs: CAP_MS,
						items: [{ json: { index } }],
						parameters: generateImages(`bench singles ${index + 1}`, { downloadImage: false, ...options }),
					});
					if (!failedItems(run, 1)) answersMs.push(Date.now() - started);
					return run;
				}),
			),
		);
		const wallMs = Date.now() - started;
		const log = await sim.log();
		const jobs = log.jobs.filter((job) => job.prompt?.startsWith('bench singles'));
		const durations = [...jobs.map((job) => job.durationMs), ...Array(Math.max(0, executions - jobs.length)).fill(JOB_MS)];
		const row: SinglesRow = {
			...endLoad(stamp),
			variant,
			executions,
			jobMs: JOB_MS,
			jitterMs: JITTER_MS,
			perMinute,
			plan: place,
			capMs: CAP_MS,
			stoppedAtCap: runs.some((run) => run.durationMs >= CAP_MS),
			failed: runs.reduce((sum, run) => sum + failedItems(run, 1), 0),
			wallMs,
			limitMs: wallLimitMs(durations, perMinute),
			answersMs: answersMs.sort((a, b) => a - b),
			lag,
			...requestCounts(log),
			errors: [...new Set(runs.flatMap((run) => errorMessages(run)))].slice(0, 3),
		};
		progress(`singles ${variant}: done in ${(wallMs / 1000).toFixed(1)} s (${row.failed} failed, ${row.throttled} × 429 of ${row.requests} requests)`);
		return { rows: [row] };
	} finally {
		restoreConsole();
		await sim.stop();
	}
}
