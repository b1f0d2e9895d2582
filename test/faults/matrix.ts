import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { BriaTailored } from '../../nodes/BriaTailored/BriaTailored.node';
import { DOWNLOAD_TIMEOUT_MS } from '../../nodes/BriaTailored/actions/shared/output';
import { resetBudgets } from '../../nodes/BriaTailored/scheduler/Pacer';
import type { BriaCredential, RunResult } from '../harness/runNode';
import { runBriaNode } from '../harness/runNode';
import { BriaSimulator } from '../simulator/BriaSimulator';
import type { JobPlan, LogEntry, SimOptions } from '../simulator/BriaSimulator';

/*
 * The fault matrix's one runner. Every case goes through `run`, which drives the node inside
 * n8n's engine against the simulator and then checks the invariants that must hold for ALL
 * cases, whatever the fault:
 *   - accounting: each input item ends as exactly one output or error item with its pairedItem
 *     (continueOnFail on), or the node error names the item (continueOnFail off);
 *   - billing: at most one accepted submit per item (counted in the simulator's log);
 *   - traceability: every job the simulator created is named (its request_id) in the node's
 *     output or error, so nothing Bria may bill is lost (a stopped run keeps no output: there, in
 *     n8n's log; a submit still unanswered at the stop is counted apart);
 *   - secrecy: the api_token reaches the API host only, and appears in no output, error or log;
 *   - time: the node returns within maxWaitTime + 2 s (per wave of `concurrency` items; plus the
 *     download budget when it downloaded a result image), and
 *     within 1 s of being stopped; nothing is sent after it returned;
 *   - bad input: not a single request.
 * Each case's own test then asserts the behaviour specific to its fault. The row recorded here
 * feeds the figures table (test/faults/report.ts → docs/RELIABILITY.md).
 */

/** Distinctive, so a leak is found by a plain substring search anywhere. */
export const TOKEN = 'bria-faults-tok-Q7x2-MUST-NOT-LEAK';

export const GROUPS = ['submit', 'status', 'result image', 'cancel', 'batch', 'bad input'] as const;
export type Group = (typeof GROUPS)[number];

export interface Row {
	group: Group;
	name: string;
	expected: string;
	observed: string;
	itemsIn: number;
	itemsOut: number;
	acceptedSubmits: number;
	submitRequests: number;
	statusCalls: number;
	imageDownloads: number;
	requests: number;
	lostItems: number;
	/** Jobs Bria created that no output item or error names (their request_id is lost). */
	untraceableJobs: number;
	/** Jobs whose submit was still unanswered when the user stopped the execution (nothing can name them). */
	jobsBeforeStop: number;
	duplicateSubmits: number;
	tokenLeaks: number;
	hang: boolean;
	wallMs: number;
	boundMs: number;
	violations: string[];
	/** The case's own assertions passed too (set after its check ran). */
	checked: boolean;
	/** A known, unfixed defect this case demonstrates (its invariant violation is expected). */
	knownBug?: string;
}

export interface CaseSpec {
	group: Group;
	name: string;
	/** The outcome in a few words, as it appears in the table. */
	expected: string;
	parameters: INodeParameters;
	/** Input items; default one empty item. */
	items?: INodeExecutionData[];
	continueOnFail?: boolean;
	/** With continueOnFail: n8n's continue mode (default: regular output). */
	onError?: 'continueRegularOutput' | 'continueErrorOutput';
	cancelAfterMs?: number;
	/** n8n's workflow settings (e.g. executionTimeout in seconds). */
	workflowSettings?: IDataObject;
	credentials?: Partial<BriaCredential>;
	/** Faults, job plans, simulator settings, jobs submitted earlier for this case (the simulator was just reset). */
	setup?: (sim: BriaSimulator) => unknown;
	/** n8n's binary data store fails with this message (e.g. a full disk): prepareBinaryData throws. */
	binaryStoreFails?: string;
	/** How long to keep watching after the node returned: it must send nothing more. */
	quietMs?: number;
	/** A settings or credential error: the node fails as a whole, with no item index to carry. */
	nodeWide?: boolean;
	knownBug?: string;
	/** A submit's answer, and its waits after 429s, have their own budget beyond Max Wait Time (issues 9 and 13): how long this case's may take. */
	submitAnswerMs?: number;
}

export interface CaseResult extends RunResult {
	row: Row;
	sim: BriaSimulator;
	/** When the node's execute() settled (its own return, not the engine's cancel hook). */
	nodeMs: number;
}

const SIM_DEFAULTS = { token: TOKEN, jobMs: 150, jitterMs: 0, rateLimitPerMinute: 0, rateWindowMs: 60_000, retryAfterHeader: true };

/** The model picker's value in "ID" mode. */
export const modelById = (id = '101') => ({ __rl: true, mode: 'id', value: id });

/**
 * Image → Generate from a prompt. maxWaitTime defaults to 10 s (not the node's 300 s) so that
 * "never waits longer than maxWaitTime + 2 s" is a bound worth checking.
 */
export function imageParams(parameters: INodeParameters = {}, options: IDataObject = {}): INodeParameters {
	return {
		resource: 'image',
		operation: 'generate',
		model: modelById(),
		inputMode: 'prompt',
		prompt: 'A ceramic mug on a sunlit kitchen table',
		...parameters,
		options: { maxWaitTime: 10, ...options },
	};
}

export function getStatusParams(requestId: string, options: IDataObject = {}, parameters: INodeParameters = {}): INodeParameters {
	return { resource: 'request', operation: 'getStatus', requestId, ...parameters, options: { maxWaitTime: 10, ...options } };
}

export function structuredPromptParams(parameters: INodeParameters = {}, options: IDataObject = {}): INodeParameters {
	return {
		resource: 'structuredPrompt',
		operation: 'generate',
		model: modelById(),
		inputMode: 'prompt',
		prompt: 'A ceramic mug',
		...parameters,
		options: { maxWaitTime: 10, ...options },
	};
}

/** `count` items with distinct prompts, so each item's submits can be told apart in the log. */
export function promptItems(count: number, prompt = 'Product shot'): INodeExecutionData[] {
	return Array.from({ length: count }, (_, i) => ({ json: { prompt: `${prompt} #${i}` } }));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A job submitted earlier (by another execution, Wait for Completion off) under `requestId`, for
 * Get Status cases: submitted to the simulator directly, then left out of the case's log.
 */
export async function jobSubmittedEarlier(sim: BriaSimulator, requestId: string, plan: JobPlan = {}): Promise<void> {
	sim.planJobs({ ...plan, requestId });
	const response = await fetch(`${sim.baseUrl}/v2/image/generate/tailored`, {
		method: 'POST',
		headers: { api_token: TOKEN, 'Content-Type': 'application/json' },
		body: JSON.stringify({ tailored_model_id: '101', prompt: 'A ceramic mug submitted earlier' }),
	});
	if (response.status !== 202) throw new Error(`the simulator did not accept the earlier job (HTTP ${response.status})`);
	await response.arrayBuffer();
	sim.log.length = 0;
}

/** Starts one simulator for a suite file, resets it before each case, records the suite's rows. */
export function faultSuite(file: string, options: SimOptions = {}) {
	let sim: BriaSimulator | undefined;
	const rows: Row[] = [];
	const executions: Array<{ startedAt: number; settledAt?: number }> = [];

	beforeAll(async () => {
		sim = await BriaSimulator.start({ ...SIM_DEFAULTS, ...options });
		// Times the node's own execute(): on a stop, n8n's engine reports the run finished at once,
		// so only this shows when the node actually returned.
		const execute = BriaTailored.prototype.execute;
		jest.spyOn(BriaTailored.prototype, 'execute').mockImplementation(async function (this: IExecuteFunctions) {
			const execution: { startedAt: number; settledAt?: number } = { startedAt: Date.now() };
			executions.push(execution);
			try {
				return await execute.call(this);
			} finally {
				execution.settledAt = Date.now();
			}
		});
	});
	beforeEach(() => {
		sim?.reset();
		// Each case starts from a fresh process's rate budget: nothing learned by an earlier case.
		resetBudgets();
		if (sim) Object.assign(sim.options, SIM_DEFAULTS, options);
	});
	afterAll(async () => {
		jest.restoreAllMocks();
		await sim?.stop();
		saveRows(file, rows);
	});

	async function run(spec: CaseSpec): Promise<CaseResult> {
		if (!sim) throw new Error('simulator not started');
		// A setup may be async (a job submitted earlier) or return whatever its one expression gives.
		await Promise.resolve(spec.setup?.(sim));
		executions.length = 0;
		const items = spec.items ?? [{ json: {} }];
		const startedAt = Date.now();
		const result = await runBriaNode({
			parameters: spec.parameters,
			items,
			credentials: { apiToken: TOKEN, baseUrl: sim.baseUrl, ...spec.credentials },
			continueOnFail: spec.continueOnFail,
			onError: spec.onError,
			cancelAfterMs: spec.cancelAfterMs,
			workflowSettings: spec.workflowSettings,
			binaryStoreFails: spec.binaryStoreFails,
		});
		// After a stop the engine resolves before the node does: wait (bounded) for the node itself.
		for (let waited = 0; executions.some((e) => e.settledAt === undefined) && waited < 15_000; waited += 20) await sleep(20);
		const execution = executions[0];
		const settledAt = execution?.settledAt ?? Date.now();
		const nodeMs = execution ? settledAt - execution.startedAt : result.durationMs;
		const quietMs = spec.quietMs ?? (spec.cancelAfterMs !== undefined ? 2_500 : 150);
		await sleep(quietMs);
		const row = checkInvariants(spec, items, result, sim, { startedAt, settledAt, nodeMs, executed: !!execution });
		rows.push(row);
		if (spec.knownBug) {
			// The defect is still there: the invariant fails as documented. Fixed? Drop `knownBug`.
			expect(row.violations.length).toBeGreaterThan(0);
		} else {
			expect(row.violations).toEqual([]);
		}
		return { ...result, row, sim, nodeMs };
	}

	/** One test: run the case (invariants included), then its own expectations. */
	function faultCase(spec: CaseSpec, check: (result: CaseResult) => void | Promise<void>, timeoutMs?: number): void {
		it(spec.name, async () => {
			const result = await run(spec);
			await check(result);
			result.row.checked = true;
		}, timeoutMs);
	}

	return {
		run,
		case: faultCase,
		get sim(): BriaSimulator {
			if (!sim) throw new Error('simulator not started');
			return sim;
		},
	};
}

function checkInvariants(
	spec: CaseSpec,
	items: INodeExecutionData[],
	result: RunResult,
	sim: BriaSimulator,
	timing: { startedAt: number; settledAt: number; nodeMs: number; executed: boolean },
): Row {
	const violations: string[] = [];
	const log = [...sim.log];
	const n = items.length;
	const cancelled = spec.cancelAfterMs !== undefined;

	// Accounting: one outcome per input item, paired to it.
	let lostItems = 0;
	if (cancelled) {
		if (result.run.status !== 'canceled') violations.push(`run status ${result.run.status}, expected canceled`);
	} else if (result.error) {
		if (spec.continueOnFail) {
			// The engine passes the input through untouched: nothing says these items failed.
			lostItems = n;
			violations.push(`continueOnFail: the node failed as a whole ("${result.error.message}"); ${n} item(s) carry no outcome`);
		} else if (result.items.length) {
			violations.push(`the node failed but still output ${result.items.length} item(s)`);
		} else if (!spec.nodeWide) {
			const index = result.error.context?.itemIndex;
			if (typeof index !== 'number' || index < 0 || index >= n) {
				lostItems = n;
				violations.push(`the node error carries no valid item index (got ${String(index)})`);
			}
		}
	} else {
		// With the error output, failed items leave by it (their fields under json.error): both outputs together, in input order.
		const errorOutput = spec.onError === 'continueErrorOutput';
		const outputs = errorOutput
			? [...result.items, ...result.errorOutput].sort((a, b) => pairedIndex(a) - pairedIndex(b))
			: result.items;
		if (outputs.length !== n) violations.push(`${n} item(s) in, ${outputs.length} out`);
		for (let i = 0; i < n; i++) {
			const item = outputs[i];
			const paired = item?.pairedItem as { item?: number } | undefined;
			const failed = errorOutput ? result.errorOutput.includes(item) : typeof item?.json.error === 'string';
			const hasOutcome =
				!!item && (failed ? (errorOutput ? typeof (item.json.error as IDataObject)?.message === 'string' : true) : typeof item.json.status === 'string');
			if (!item || paired?.item !== i || !hasOutcome) {
				lostItems++;
				violations.push(`item ${i}: ${item ? `pairedItem ${JSON.stringify(item.pairedItem)}, json keys ${Object.keys(item.json).join(',')}` : 'missing'}`);
			}
		}
	}

	// Billing: at most one accepted submit per item (items differ by their request body).
	const submitRequests = log.filter((e) => e.route === 'submitImage' || e.route === 'submitStructuredPrompt');
	const accepted = sim.submits();
	const perBody = new Map<string, number>();
	for (const entry of accepted) perBody.set(JSON.stringify(entry.body), (perBody.get(JSON.stringify(entry.body)) ?? 0) + 1);
	const duplicateSubmits = [...perBody.values()].reduce((sum, count) => sum + count - 1, 0);
	if (duplicateSubmits) violations.push(`${duplicateSubmits} duplicate accepted submit(s)`);
	if (accepted.length > n) violations.push(`${accepted.length} accepted submits for ${n} item(s)`);

	// Traceability: every job Bria created (and so may bill) is named in the node's output or error.
	// A stopped execution keeps no output or error of the node that was running, so there the node
	// names its jobs in n8n's log. Only a submit still unanswered at the stop cannot be named (n8n
	// aborts the request with the execution): counted apart, not hidden.
	const shown = safeJson([result.items, result.errorOutput, result.error?.message, result.error?.description, result.error?.context, cancelled ? result.logs : []]);
	const untraceable = [...sim.jobs.keys()].filter((id) => !shown.includes(id));
	if (untraceable.length && !cancelled)
		violations.push(`${untraceable.length} job(s) Bria created are in no output or error: ${untraceable.join(', ')}`);

	// Secrecy: the token goes to the API host only, and is shown nowhere.
	const leaks = tokenLeaks(log, result);
	if (leaks.length) violations.push(`token leaked: ${leaks.join('; ')}`);

	// Time: bounded by the wait budget, and prompt after a stop.
	const maxWaitS = Number((spec.parameters.options as IDataObject | undefined)?.maxWaitTime ?? 300);
	// Every item's job starts at once unless the workflow caps jobs in flight (Concurrency > 0).
	const concurrency = Number((spec.parameters.options as IDataObject | undefined)?.concurrency ?? 0);
	const waves = Number.isFinite(concurrency) && concurrency > 0 ? Math.ceil(n / concurrency) : 1;
	const budgetS = Number.isFinite(maxWaitS) && maxWaitS > 0 ? maxWaitS : 300;
	// A result download has its own budget on top of the wait (a job done just in time still gets its image).
	const downloaded = log.some((e) => e.host === 'images');
	let boundMs = waves * (budgetS * 1000 + (downloaded ? DOWNLOAD_TIMEOUT_MS : 0)) + 2_000 + (spec.submitAnswerMs ?? 0);
	let hang = timing.nodeMs > boundMs;
	if (cancelled) {
		const stopAt = timing.startedAt + spec.cancelAfterMs!;
		boundMs = spec.cancelAfterMs! + 1_000;
		hang = timing.settledAt - stopAt > 1_000;
		if (!timing.executed || timing.settledAt - stopAt > 1_000) violations.push(`the node returned ${timing.settledAt - stopAt} ms after the stop`);
	} else if (hang) {
		violations.push(`the node ran ${timing.nodeMs} ms, over its bound of ${boundMs} ms`);
	}
	const late = log.filter((e) => e.at > timing.settledAt + 50);
	if (late.length) {
		hang = true;
		violations.push(`${late.length} request(s) after the node returned: ${late.map((e) => `${e.method} ${e.path}`).join(', ')}`);
	}

	// Bad input: rejected before any request.
	if (spec.group === 'bad input' && log.length) violations.push(`${log.length} request(s) sent for a bad input`);

	return {
		group: spec.group,
		name: spec.name,
		expected: spec.expected,
		observed: observe(result, cancelled, timing, spec),
		itemsIn: n,
		itemsOut: result.items.length,
		acceptedSubmits: accepted.length,
		submitRequests: submitRequests.length,
		statusCalls: log.filter((e) => e.route === 'status').length,
		imageDownloads: log.filter((e) => e.host === 'images').length,
		requests: log.length,
		lostItems,
		untraceableJobs: cancelled ? 0 : untraceable.length,
		jobsBeforeStop: cancelled ? untraceable.length : 0,
		duplicateSubmits,
		tokenLeaks: leaks.length,
		hang,
		wallMs: timing.nodeMs,
		boundMs,
		violations,
		checked: false,
		...(spec.knownBug ? { knownBug: spec.knownBug } : {}),
	};
}

function pairedIndex(item: INodeExecutionData): number {
	return (item.pairedItem as { item?: number } | undefined)?.item ?? -1;
}

/** Every place the token must not be: the images host, request paths and bodies, and all the user or a log can see. */
function tokenLeaks(log: LogEntry[], result: RunResult): string[] {
	const leaks: string[] = [];
	for (const entry of log) {
		const headers = JSON.stringify(entry.headers);
		if (entry.host === 'images' && headers.includes(TOKEN)) leaks.push(`sent to the images host (${entry.path})`);
		if (entry.path.includes(TOKEN)) leaks.push(`in a request path (${entry.host})`);
		if (JSON.stringify(entry.body ?? null).includes(TOKEN)) leaks.push(`in a request body (${entry.host} ${entry.path})`);
	}
	const visible: Array<[string, unknown]> = [
		['output items', result.items],
		['error message', result.error?.message],
		['error description', result.error?.description],
		['error context', result.error?.context],
		['run data', result.run.data],
	];
	for (const [where, value] of visible) if (safeJson(value).includes(TOKEN)) leaks.push(`in the ${where}`);
	const leakingLines = result.logs.filter((line) => line.includes(TOKEN));
	if (leakingLines.length) leaks.push(`in ${leakingLines.length} log line(s)`);
	return leaks;
}

function observe(result: RunResult, cancelled: boolean, timing: { startedAt: number; settledAt: number }, spec: CaseSpec): string {
	if (cancelled) {
		const after = timing.settledAt - (timing.startedAt + spec.cancelAfterMs!);
		return `cancelled; node returned ${Math.max(0, after)} ms after the stop`;
	}
	if (result.error) return `${spec.continueOnFail ? 'node failed: ' : 'error: '}${oneLine(result.error.message)}`;
	if (result.errorOutput.length) {
		const failed = result.errorOutput.map((item) => `item ${pairedIndex(item)}`).join(', ');
		return `success output: ${result.items.map((item) => String(item.json.status)).join(', ') || 'none'}; error output: ${failed}`;
	}
	const outcomes = result.items.map((item) =>
		typeof item.json.error === 'string'
			? `error item (${oneLine(item.json.error)})`
			: `${String(item.json.status)}${item.binary ? ' + image' : ''}`,
	);
	if (outcomes.length === 1) return outcomes[0];
	const counts = new Map<string, number>();
	for (const outcome of outcomes) {
		const key = outcome.startsWith('error item') ? 'error item' : outcome;
		counts.set(key, (counts.get(key) ?? 0) + 1);
	}
	return `${outcomes.length} items: ${[...counts].map(([key, count]) => `${count} ${key}`).join(', ')}`;
}

function oneLine(text: string, max = 110): string {
	const flat = text.replace(/\s+/g, ' ').trim();
	return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function safeJson(value: unknown): string {
	const seen = new WeakSet<object>();
	try {
		return (
			JSON.stringify(value, (_key, v: unknown) => {
				if (v instanceof Error) return { ...v, message: v.message, stack: v.stack };
				if (v && typeof v === 'object') {
					if (seen.has(v)) return '[circular]';
					seen.add(v);
				}
				return v;
			}) ?? ''
		);
	} catch {
		return String(value);
	}
}

/** Rows go to a per-run folder set up by globalSetup (see report.ts); nothing is kept without it. */
function saveRows(file: string, rows: Row[]): void {
	const dir = process.env.BRIA_FAULTS_ROWS_DIR;
	if (!dir) return;
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, `${path.basename(file)}.json`), JSON.stringify(rows));
}
