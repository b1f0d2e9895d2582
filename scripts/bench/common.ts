/** Helpers shared by the benchmark parts. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { BriaApi } from '../../credentials/BriaApi.credentials';
import * as pacerModule from '../../nodes/BriaTailored/scheduler/Pacer';
import { runBriaNode } from '../../test/harness/runNode';
import type { BriaCredential, RunResult } from '../../test/harness/runNode';
import type { BuildStamp, Generation, GenerationStamp, LoopLag, OrchestratorMessage, Pacing, PlanPlace, RequestCounts, SimLog, WorkerMessage } from './types';

/** Image generation from a text prompt with model 101 (the simulator's first fibo model). */
export function generateImages(prompt: string, options: INodeParameters): INodeParameters {
	return {
		resource: 'image',
		operation: 'generate',
		model: { __rl: true, mode: 'id', value: '101' },
		inputMode: 'prompt',
		prompt,
		options,
	};
}

export function inputItems(count: number): INodeExecutionData[] {
	return Array.from({ length: count }, (_, index) => ({ json: { index } }));
}

/** Items that did not end COMPLETED (error items of Continue On Fail, or all of them when the node failed). */
export function failedItems(result: RunResult, expected: number): number {
	if (result.error) return expected;
	return expected - result.items.filter((item) => item.json.status === 'COMPLETED').length;
}

/** Distinct error messages of a run, for the report's diagnostics. */
export function errorMessages(result: RunResult, limit = 3): string[] {
	const messages = new Set<string>();
	if (result.error) messages.add(result.error.message);
	for (const item of result.items) if (typeof item.json.error === 'string') messages.add(item.json.error);
	return [...messages].slice(0, limit);
}

/** Nearest-rank percentile (p in 0…100) of a non-empty list. */
export function percentile(values: number[], p: number): number {
	if (!values.length) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
	return sorted[Math.min(sorted.length, rank) - 1];
}

export function mean(values: number[]): number {
	return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : NaN;
}

export function median(values: number[]): number {
	return percentile(values, 50);
}

/** Progress goes to stderr, so stdout carries only the figures. */
export function progress(text: string): void {
	process.stderr.write(`[bench] ${text}\n`);
}

/**
 * runNode.ts swaps console methods in and out around each run; runs side by side can leave one
 * run's capture installed. Parts that run the node concurrently restore the originals after.
 */
export function keepConsole(): () => void {
	const original = { log: console.log, warn: console.warn, error: console.error, info: console.info, debug: console.debug };
	return () => Object.assign(console, original);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------- the organization's plan and the simulator's request log ----------

/** Read from the credential type, so a run files its figures as today's or the new ones by itself. */
export function pacingOfThisBuild(): Pacing {
	return new BriaApi().properties.some((property) => property.name === 'requestsPerMinute') ? 'organization' : 'execution';
}

/** Where a run states the plan: on the credential where the build has the field, else the node option (today's only place). */
export function withPlan(
	credentials: BriaCredential,
	perMinute: number | undefined,
): { credentials: BriaCredential; options: INodeParameters; place: PlanPlace } {
	if (!perMinute) return { credentials, options: {}, place: 'none' };
	if (pacingOfThisBuild() === 'organization') {
		// The credential's own field, as a user fills it in n8n (extra fields pass through the harness's store).
		return { credentials: { ...credentials, requestsPerMinute: perMinute } as BriaCredential, options: {}, place: 'credential' };
	}
	return { credentials, options: { requestsPerMinute: perMinute }, place: 'node option' };
}

/** Requests to the API host by route, and the 429s among them, from the simulator's log. */
export function requestCounts(log: SimLog): RequestCounts {
	const api = log.entries.filter((entry) => entry.host === 'api');
	const submits = api.filter((entry) => entry.route === 'submitImage' || entry.route === 'submitStructuredPrompt');
	const status = api.filter((entry) => entry.route === 'status');
	const firstAt = api[0]?.at ?? 0;
	const throttleBursts: RequestCounts['throttleBursts'] = [];
	let lastAt = -Infinity;
	// 429s within a second of each other (same route) form one burst.
	for (const entry of api.filter((e) => e.status === 429)) {
		const last = throttleBursts[throttleBursts.length - 1];
		if (last && last.route === entry.route && entry.at - lastAt <= 1_000) last.count++;
		else throttleBursts.push({ atS: (entry.at - firstAt) / 1000, route: entry.route ?? '?', count: 1 });
		lastAt = entry.at;
	}
	return {
		requests: api.length,
		throttled: api.filter((entry) => entry.status === 429).length,
		submits: submits.length,
		submits429: submits.filter((entry) => entry.status === 429).length,
		statusCalls: status.length,
		status429: status.filter((entry) => entry.status === 429).length,
		throttleBursts,
	};
}

/** Durations the simulator drew for its jobs (jitter included), in ms. */
export function jobDurations(log: SimLog): number[] {
	return log.jobs.map((job) => job.durationMs);
}

export function buildStamp(): BuildStamp {
	return { pacing: pacingOfThisBuild(), commit: commitOfThisTree() };
}

/** The commit whose node issue 13's "today" figures describe. */
export const TODAY_COMMIT = 'a71375e';

/**
 * Which scheduler issue 13's figures describe: BENCH_GENERATION (today | new) where set (a tree
 * exported from git has no history to compare), else 'today' when nodes/ and credentials/ are
 * exactly commit a71375e's, 'new' otherwise.
 */
export function generationOfThisTree(): Generation {
	const forced = process.env.BENCH_GENERATION?.trim();
	if (forced === 'today' || forced === 'new') return forced;
	try {
		// Exit code 1 (a difference) throws.
		execFileSync('git', ['diff', '--quiet', TODAY_COMMIT, '--', 'nodes', 'credentials'], { timeout: 5_000, stdio: 'ignore' });
		const untracked = execFileSync('git', ['ls-files', '--others', '--exclude-standard', '--', 'nodes', 'credentials'], { encoding: 'utf8', timeout: 5_000 }).trim();
		return untracked ? 'new' : 'today';
	} catch {
		return 'new';
	}
}

/** The stamp of an issue-13 row; call `finish` with the row's figures to record the load at its end. */
export function generationStamp(): GenerationStamp {
	return { generation: generationOfThisTree(), commit: commitOfThisTree(), load: [os.loadavg()[0], os.loadavg()[0]] };
}

export function endLoad(stamp: GenerationStamp): GenerationStamp {
	return { ...stamp, load: [stamp.load[0], os.loadavg()[0]] };
}

/** Event-loop delay while `run` runs (10 ms resolution: finer costs the loop it measures). */
export async function withLoopLag<T>(run: () => Promise<T>): Promise<{ value: T; lag: LoopLag }> {
	const histogram = monitorEventLoopDelay({ resolution: 10 });
	histogram.enable();
	try {
		const value = await run();
		return { value, lag: loopLag(histogram) };
	} finally {
		histogram.disable();
	}
}

function loopLag(histogram: ReturnType<typeof monitorEventLoopDelay>): LoopLag {
	// The histogram counts the resolution itself in every sample: take it off.
	const ms = (ns: number) => Math.max(0, ns / 1e6 - 10);
	return { p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max), meanMs: ms(histogram.mean) };
}

/** The git commit the figures were measured on (BENCH_COMMIT for a tree exported from git; "unknown" outside one). */
function commitOfThisTree(): string {
	if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
	try {
		const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
		const dirty = execFileSync('git', ['status', '--porcelain', '--', 'nodes', 'credentials'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
		return dirty ? `${head} + uncommitted node changes` : head;
	} catch {
		return 'unknown';
	}
}

/**
 * Readies a rate-bound variant, then waits until every variant of the run is ready. n8n's engine
 * loads much of itself on a process's first execution, which costs seconds of CPU when several
 * variants start together on a small machine: one execution that fails validation (no request
 * reaches any simulator, so the node learns nothing) loads it, and measuring starts only when all
 * variants have done so, so no variant's figures carry another's start-up.
 */
export async function readyThenWait(): Promise<void> {
	// A model ID with a space fails the node's own validation, before any request.
	const parameters = { ...generateImages('warm-up', {}), model: { __rl: true, mode: 'id', value: 'warm up' } };
	await runBriaNode({ credentials: { apiToken: 'warm-up', baseUrl: 'http://127.0.0.1:9' }, parameters, continueOnFail: true }).catch(() => undefined);
	// The process is fresh, but say so: forget every organization's budget where the build can (issue 8's module has resetBudgets).
	(pacerModule as { resetBudgets?: () => void }).resetBudgets?.();
	if (!process.send) return;
	const go = new Promise<void>((resolve) => {
		const onMessage = (message: OrchestratorMessage) => {
			if (message?.type !== 'go') return;
			process.off('message', onMessage);
			resolve();
		};
		process.on('message', onMessage);
	});
	process.send({ type: 'ready' } satisfies WorkerMessage);
	await go;
}
