/** Turns part results into the printed tables, the target verdicts and docs/BENCHMARKS.md. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

import { answerLimitMs, answersWithinLimit, requestsLimit, wallLimitMs } from './limits';
import { scaleSections13, verdicts13 } from './report13';
import { SCALE_PARTS } from './types';
import type {
	BurstResult,
	BurstRow,
	ConcurrencyResult,
	CpuResult,
	CpuRow,
	LagResult,
	LagRow,
	MemoryResult,
	MemoryRow,
	PartEnvelope,
	PartName,
	PartResults,
	RateBoundPart,
	RateLimitResult,
	RateLimitRow,
	ScalePart,
} from './types';

export interface Machine {
	nproc: number;
	cpuModel: string;
	cpuMhz?: number;
	memTotalBytes: number;
	node: string;
	os: string;
	/** 1-minute load average when the run started and ended: other work on the machine skews timings. */
	loadStart: number;
	loadEnd: number;
}

export interface RunInfo {
	date: string;
	command: string;
	parts: PartName[];
	totalMs: number;
	machine: Machine;
}

export interface BenchData {
	run: RunInfo;
	/** The latest figures of every part. */
	parts: Partial<{ [P in PartName]: PartEnvelope<P> }>;
	/** The rate-bound parts as measured on a build that paces per execution (before issue 8), kept for comparison. */
	today?: Partial<{ [P in RateBoundPart]: PartEnvelope<P> }>;
}

/** Today's figures (per-execution pacing) and the new ones (organization budget) of a rate-bound part. */
function generations<P extends RateBoundPart>(data: BenchData, part: P): { today?: PartResults[P]; now?: PartResults[P] } {
	const latest = data.parts[part]?.result as PartResults[P] | undefined;
	// Figures from before the build stamp were all measured with per-execution pacing.
	const latestIsToday = !!latest && (latest.pacing ?? 'execution') === 'execution';
	return {
		today: (data.today?.[part]?.result as PartResults[P] | undefined) ?? (latestIsToday ? latest : undefined),
		now: latest && !latestIsToday ? latest : undefined,
	};
}

export function machineInfo(): Omit<Machine, 'loadEnd'> {
	let nproc = os.availableParallelism?.() ?? os.cpus().length;
	try {
		nproc = Number(execFileSync('nproc', { encoding: 'utf8', timeout: 5_000 }).trim()) || nproc;
	} catch {
		// no nproc binary: keep Node's own count
	}
	let cpuModel = os.cpus()[0]?.model ?? 'unknown';
	let memTotalBytes = os.totalmem();
	let cpuMhz: number | undefined;
	try {
		const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
		cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpuModel;
		cpuMhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1]) || undefined;
		const kb = /^MemTotal:\s*(\d+)\s*kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
		if (kb) memTotalBytes = Number(kb) * 1024;
	} catch {
		// not Linux: os module figures stand
	}
	return { nproc, cpuModel, cpuMhz, memTotalBytes, node: process.version, os: `${os.type()} ${os.release()} ${os.arch()}`, loadStart: os.loadavg()[0] };
}

// ---------- formatting ----------

const seconds = (ms: number, digits = 1) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(digits)} s` : 'n/a');
const millis = (ms: number, digits = 2) => (Number.isFinite(ms) ? `${ms.toFixed(digits)} ms` : 'n/a');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');
const verdict = (pass: boolean | undefined) => (pass === undefined ? 'n/a' : pass ? 'PASS' : 'MISS');

export function duration(ms: number): string {
	const total = Math.round(ms / 1000);
	return total >= 60 ? `${Math.floor(total / 60)} min ${total % 60} s` : `${total} s`;
}

function table(header: string[], rows: string[][]): string {
	const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
	return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function measuredNote(envelope: PartEnvelope): string {
	return `_Measured ${envelope.measuredAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}; the part took ${duration(envelope.durationMs)}._`;
}

// ---------- targets ----------

interface Verdict {
	part?: PartName;
	target: string;
	measured: string;
	pass: boolean | undefined;
}

const idealMs = (items: number, concurrency: number, jobMs: number) => Math.ceil(items / concurrency) * jobMs;

function concurrencyTargets(result: ConcurrencyResult | undefined): Verdict[] {
	const run = result?.runs.find((r) => r.level === 'default' && r.items === 20);
	const sequential = result?.runs.find((r) => r.level === 'sequential' && r.items === 20);
	if (!result || !run || !sequential) {
		return [
			{ target: '20 items × 5 s, default settings: wall ≤ 1.25 × ideal', measured: 'not measured', pass: undefined },
			{ target: '20 items × 5 s, default settings: ≥ 4× faster than sequential', measured: 'not measured', pass: undefined },
		];
	}
	const ideal = idealMs(20, run.concurrency, result.jobMs);
	const toIdeal = run.wallMs / ideal;
	const speedUp = sequential.wallMs / run.wallMs;
	return [
		{
			target: '20 items × 5 s, default settings: wall ≤ 1.25 × ideal',
			measured: `${seconds(run.wallMs)} vs ideal ${seconds(ideal)} = ${ratio(toIdeal)}${run.failed ? `, ${run.failed} failed` : ''}`,
			pass: toIdeal <= 1.25 && run.failed === 0,
		},
		{
			target: '20 items × 5 s, default settings: ≥ 4× faster than sequential',
			measured: `${ratio(speedUp)} (sequential ${seconds(sequential.wallMs)})`,
			pass: speedUp >= 4 && run.failed === 0,
		},
	];
}

const share = (row: { throttled: number; requests: number }) => (row.requests ? row.throttled / row.requests : 0);
const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
/** "new X (today Y)": the verdict is on the newest figure; today's stays beside it. */
const sideBySideText = <R>(today: R | undefined, now: R | undefined, text: (row: R) => string) =>
	now ? `${text(now)}${today ? ` (today: ${text(today)})` : ''}` : today ? `today: ${text(today)}` : 'not measured';

function lagTargets(data: BenchData): Verdict[] {
	const { today, now } = generations(data, 'lag');
	const latest = now ?? today;
	if (!latest) {
		return [
			{ target: '10 s and 30 s jobs, durations learned: status checks per job ≤ 2.0 (limit 1)', measured: 'not measured', pass: undefined },
			{ target: 'completion-detection lag p95 ≤ 2 s (limit 0)', measured: 'not measured', pass: undefined },
		];
	}
	// Figures from before the warm-up have one row per job time, measured on a first run.
	const pick = (result: LagResult | undefined, jobMs: number, phase: LagRow['phase']) =>
		result?.rows.find((row) => row.jobMs === jobMs && (row.phase ?? 'first run') === phase) ??
		(phase === 'learned' ? result?.rows.find((row) => row.jobMs === jobMs && !row.phase) : undefined);
	const jobTimes = [...new Set(latest.rows.map((row) => row.jobMs))];
	const checks = jobTimes
		.filter((jobMs) => jobMs >= 10_000)
		.map((jobMs) => {
			const row = pick(latest, jobMs, 'learned');
			return {
				target: `${jobMs / 1000} s jobs, durations learned: status checks per job ≤ 2.0 (limit 1)`,
				measured: sideBySideText(pick(today, jobMs, 'learned'), pick(now, jobMs, 'learned'), (r) => `mean ${r.callsMean.toFixed(2)}${r.phase ? '' : ' (no warm-up)'}`),
				pass: row ? row.callsMean <= 2 && row.failed === 0 : undefined,
			};
		});
	const lag = latest.rows.map((row) => {
		const phase = row.phase ?? 'first run';
		return {
			target: `${row.jobMs / 1000} s jobs, ${phase}: detection lag p95 ≤ 2 s (limit 0); checks ≤ job_seconds / 2 + 2`,
			measured: sideBySideText(
				pick(today, row.jobMs, phase),
				pick(now, row.jobMs, phase),
				(r) => `p95 ${seconds(r.lagP95Ms, 2)}, ${r.callsOverBound}/${r.jobs} over the checks bound`,
			),
			pass: row.lagP95Ms <= 2_000 && row.callsOverBound === 0 && row.failed === 0,
		};
	});
	return [...checks, ...lag];
}

function rateLimitTargets(data: BenchData): Verdict[] {
	const { today, now } = generations(data, 'ratelimit');
	const withPlan = (result?: RateLimitResult) => result?.rows.find((row) => (row.plan ?? (row.options.requestsPerMinute ? 'node option' : 'none')) !== 'none');
	const without = (result?: RateLimitResult) => result?.rows.find((row) => (row.plan ?? (row.options.requestsPerMinute ? 'node option' : 'none')) === 'none');
	const limit = (result: RateLimitResult | undefined, row: RateLimitRow) => wallLimitMs(row.durationsMs ?? Array(row.items).fill(result?.jobMs ?? 5_000), result?.limitPerMinute ?? 10);
	const wallText = (result: RateLimitResult | undefined) => (row: RateLimitRow) => `${seconds(row.wallMs)} = ${ratio(row.wallMs / limit(result, row))} the ${seconds(limit(result, row))} limit, ${row.throttled} × 429, ${row.failed} failed`;
	const planned = withPlan(now ?? today);
	const plain = without(now ?? today);
	return [
		{
			target: '20 items, 10/min, plan stated: wall ≤ 1.2 × physical limit, 0 × 429, 0 failed',
			measured: sideBySideText(withPlan(today), withPlan(now), (row) => wallText(today && row === withPlan(today) ? today : now)(row)),
			pass: planned ? planned.wallMs <= 1.2 * limit(now ?? today, planned) && planned.throttled === 0 && planned.failed === 0 : undefined,
		},
		{
			target: '20 items, 10/min, no plan: 0 failed, 429s ≤ 10 % of requests',
			measured: sideBySideText(without(today), without(now), (row) => `${row.failed} failed, ${row.throttled} of ${row.requests} = ${percent(share(row))}`),
			pass: plain ? plain.failed === 0 && share(plain) <= 0.1 : undefined,
		},
	];
}

/** The figures of one burst run judged against issue 8's targets. */
function burstLimits(result: BurstResult, row: BurstRow) {
	const wallLimit = wallLimitMs(row.durationsMs.length ? row.durationsMs : Array(row.executions).fill(result.jobMs), row.perMinute);
	const within = 2 * result.jobMs;
	return {
		wallLimit,
		within,
		answeredWithin: row.answersMs.filter((ms) => ms <= within).length,
		answeredWithinLimit: answersWithinLimit(row.executions, row.perMinute, result.jobMs, within),
	};
}

function burstTargets(data: BenchData): Verdict[] {
	const { today, now } = generations(data, 'burst');
	const latest = now ?? today;
	const find = (result: BurstResult | undefined, perMinute: number, plan: boolean) =>
		result?.rows.find((row) => row.perMinute === perMinute && (row.plan !== 'none') === plan);
	const text = (result: BurstResult | undefined, plan: boolean) => (row: BurstRow) => {
		if (!result) return 'n/a';
		const { wallLimit, within, answeredWithin } = burstLimits(result, row);
		const parts = [`${row.failed} failed`, `${row.throttled} × 429 (${percent(share(row))})`, `wall ${seconds(row.wallMs)} = ${ratio(row.wallMs / wallLimit)} limit`];
		if (plan) parts.push(`${answeredWithin}/${row.executions} answered within ${seconds(within, 0)}`);
		return parts.join(', ');
	};
	const verdictsFor = (perMinute: number, plan: boolean): Verdict => {
		const row = find(latest, perMinute, plan);
		const target = plan
			? `burst of 20 executions, ${perMinute}/min, plan on the credential: 0 failed, 0 × 429, wall ≤ 1.2 × limit, half answer within 2 × job time`
			: `burst of 20 executions, ${perMinute}/min, no plan: 0 failed, 429s ≤ 10 % of requests, wall ≤ 1.5 × limit`;
		const measured = sideBySideText(find(today, perMinute, plan), find(now, perMinute, plan), (r) => text(r === find(today, perMinute, plan) ? today : now, plan)(r));
		if (!row || !latest) return { target, measured, pass: undefined };
		const { wallLimit, answeredWithin } = burstLimits(latest, row);
		const pass = plan
			? row.failed === 0 && row.throttled === 0 && row.wallMs <= 1.2 * wallLimit && answeredWithin * 2 >= row.executions
			: row.failed === 0 && share(row) <= 0.1 && row.wallMs <= 1.5 * wallLimit;
		return { target, measured, pass };
	};
	return [10, 60].flatMap((perMinute) => [verdictsFor(perMinute, true), verdictsFor(perMinute, false)]);
}

function cpuTargets(result: CpuResult | undefined): Verdict[] {
	const target = 'node overhead ≤ 2 ms per item (CPU, network taken out: in-memory HTTP)';
	if (!result) return [{ target, measured: 'not measured', pass: undefined }];
	const inMemory = result.rows.filter((row) => row.kind === 'node-in-memory');
	// Figures from before the in-memory rows measured the node through n8n's helpers only: not the target's figure.
	if (result.inMemoryMs === undefined || !inMemory.length) {
		return [{ target, measured: `not measured with in-memory HTTP (via n8n's HTTP helpers: ${millis(result.nodeShareMs)} above baseline)`, pass: undefined }];
	}
	// The node's own cost is the downloads-off row. With downloads on, the extra is n8n's binary-data
	// service writing each file to disk (kernel time that swings between runs): shown, not judged.
	const own = inMemory.find((row) => row.workload.endsWith('downloadImage off')) ?? inMemory[0];
	const withDownload = inMemory.find((row) => row.workload.endsWith('downloadImage on'));
	return [
		{
			target,
			measured: `${millis(own.medianMs)} per item${withDownload ? `; ${millis(withDownload.medianMs)} with downloads, the extra being n8n's binary store writing files to disk` : ''}; via n8n's real HTTP helpers: ${millis(result.nodeShareMs)} above baseline`,
			pass: own.medianMs <= 2,
		},
	];
}

export function verdicts(data: BenchData): Verdict[] {
	const parts = data.parts;
	const of = (part: PartName, list: Verdict[]) => list.map((v) => ({ ...v, part }));
	return [
		...of('concurrency', concurrencyTargets(parts.concurrency?.result)),
		...of('burst', burstTargets(data)),
		...of('ratelimit', rateLimitTargets(data)),
		...of('lag', lagTargets(data)),
		...of('cpu', cpuTargets(parts.cpu?.result)),
		...verdicts13(parts),
	];
}

// ---------- sections ----------

function concurrencySection(envelope: PartEnvelope<'concurrency'>, result: ConcurrencyResult): string {
	const sequentialFor = (items: number) => result.runs.find((r) => r.level === 'sequential' && r.items === items);
	const order = { sequential: 0, default: 1, high: 2 };
	const runs = [...result.runs].sort((a, b) => a.items - b.items || order[a.level] - order[b.level]);
	const rows = runs.map((run) => {
		const ideal = idealMs(run.items, run.concurrency, result.jobMs);
		const sequential = sequentialFor(run.items);
		const speedUp = run.level === 'sequential' || !sequential ? '–' : `${ratio(sequential.wallMs / run.wallMs)}${sequential.measured ? '' : ' *'}`;
		return [
			String(run.items),
			`${run.level} (${run.concurrency})`,
			run.measured ? seconds(run.wallMs) : `${seconds(run.wallMs)} *`,
			seconds(ideal),
			run.measured ? ratio(run.wallMs / ideal) : `${ratio(run.wallMs / ideal)} *`,
			speedUp,
			run.statusCallsPerJob === undefined ? '–' : run.statusCallsPerJob.toFixed(1),
			run.measured ? String(run.failed) : '–',
		];
	});
	return [
		`## 1. Concurrency: N items of ${result.jobMs / 1000} s jobs`,
		'',
		measuredNote(envelope),
		'',
		table(['Items', 'Setting (concurrency)', 'Wall', 'Ideal', 'Ratio to ideal', 'Speed-up over sequential', 'Status calls/job', 'Failed'], rows),
		'',
		`Ideal = ceil(N / concurrency) × ${result.jobMs / 1000} s. downloadImage off. All runs go side by side in one process against one simulator without a rate limit, no plan on the credential: one organization, so from issue 8 on they share its rate budget as executions in one n8n process do (before, each run paced itself).`,
		result.full
			? 'Sequential × 50 was run for real (BENCH_FULL=1).'
			: `\\* Sequential × 50 was **not run**: extrapolated as 50 × the measured sequential time per item (${seconds(result.sequentialPerItemMs)}, from the largest sequential run). Set BENCH_FULL=1 to run it (about ${duration(result.sequentialPerItemMs * 50)} more).`,
	].join('\n');
}

/** One column per build and variant, one row per figure, the physical limit last. */
function figureTable<R>(columns: Array<{ title: string; row: R | undefined }>, figures: Array<[string, (row: R) => string, string]>): string {
	const shown = columns.filter((column) => column.row);
	return table(
		['Figure', ...shown.map((column) => column.title), 'Physical limit'],
		figures.map(([label, value, limit]) => [label, ...shown.map((column) => value(column.row as R)), limit]),
	);
}

const buildNote = (today?: { commit?: string }, now?: { commit?: string }) =>
	[today ? `today = per-execution pacing (commit ${today.commit ?? 'before the build stamp'})` : '', now ? `new = one budget per organization (commit ${now.commit})` : 'new: not measured yet']
		.filter(Boolean)
		.join('; ');

const throttleText = (row: { throttled: number; requests: number; submits429: number; status429: number }) =>
	`${row.throttled} (${row.submits429} / ${row.status429}) = ${percent(share(row))}`;

function burstSection(envelope: PartEnvelope<'burst'>, data: BenchData): string {
	const { today, now } = generations(data, 'burst');
	const any = (now ?? today) as BurstResult;
	const tables = [10, 60].flatMap((perMinute) => {
		const pick = (result: BurstResult | undefined, plan: boolean) => {
			const row = result?.rows.find((r) => r.perMinute === perMinute && (r.plan !== 'none') === plan);
			return row && result ? { row, result } : undefined;
		};
		const columns = [
			{ title: 'Plan stated: today', row: pick(today, true) },
			{ title: '**Plan on the credential: new**', row: pick(now, true) },
			{ title: 'No plan: today', row: pick(today, false) },
			{ title: '**No plan: new**', row: pick(now, false) },
		];
		if (!columns.some((column) => column.row)) return [];
		const executions = columns.find((column) => column.row)?.row?.row.executions ?? 20;
		const jobMs = any.jobMs;
		const nominalWall = wallLimitMs(Array(executions).fill(jobMs), perMinute);
		const median = Math.ceil(executions / 2) - 1;
		type Cell = { row: BurstRow; result: BurstResult };
		return [
			`### ${executions} executions at once, ${perMinute} requests/minute per endpoint`,
			'',
			figureTable<Cell>(columns, [
				['Failed executions', ({ row }) => `${row.failed} / ${row.executions}${row.cancelled ? ' (stopped at the bench limit)' : ''}`, '0'],
				['Requests (submits / status checks)', ({ row }) => `${row.requests} (${row.submits} / ${row.statusCalls})`, `${requestsLimit(executions)} (${executions} / ${executions})`],
				['429s (submits / status checks) = share', ({ row }) => throttleText(row), '0'],
				['**Wall** = × its limit', ({ row, result }) => `**${seconds(row.wallMs)}** = ${ratio(row.wallMs / burstLimits(result, row).wallLimit)}`, seconds(nominalWall)],
				[
					'Answers: first / median / last',
					({ row }) => (row.answersMs.length ? `${seconds(row.answersMs[0])} / ${seconds(row.answersMs[Math.min(median, row.answersMs.length - 1)])} / ${seconds(row.answersMs[row.answersMs.length - 1])}` : 'none'),
					`${seconds(answerLimitMs(0, perMinute, jobMs))} / ${seconds(answerLimitMs(median, perMinute, jobMs))} / ${seconds(answerLimitMs(executions - 1, perMinute, jobMs))}`,
				],
				[
					`**Answered within ${seconds(2 * jobMs, 0)}** (2 × job time)`,
					({ row, result }) => `**${burstLimits(result, row).answeredWithin} / ${row.executions}**`,
					`${answersWithinLimit(executions, perMinute, jobMs, 2 * jobMs)} / ${executions}`,
				],
			]),
			'',
		];
	});
	const notes = [today, now].flatMap((result, index) =>
		(result?.rows ?? []).flatMap((row) => [
			...(row.throttleBursts.length ? [`- ${index ? 'new' : 'today'}, ${row.variant}: 429s at ${row.throttleBursts.map((b) => `${b.atS.toFixed(1)} s ${b.route} ×${b.count}`).join(', ')}`] : []),
			...(row.errors.length ? [`- ${index ? 'new' : 'today'}, ${row.variant}: errors ${row.errors.join(' / ')}`] : []),
		]),
	);
	return [
		'## 6. Burst of executions: 20 single-item executions started at once',
		'',
		measuredNote(envelope),
		'',
		`${buildNote(today, now)}. Each execution runs in n8n's real engine (WorkflowExecute, its own execution id), one item, ${any.jobMs / 1000} s jobs varying ± ${any.jitterMs / 1000} s, downloadImage off, otherwise default options; every variant in a fresh process (nothing learned) against its own simulator, which allows that many requests per endpoint in any 60 s window and answers 429 with Retry-After beyond it. "Plan stated" is \`requestsPerMinute\` on the credential where the build has that field; today's build has only the node option, which is what today's column used. An answer is when an execution finished with its result, from the moment all were started (failed executions do not count as answered). Each wall is divided by the physical limit computed from that run's own job durations; the limit column shows it for nominal durations (see "How the physical limit is computed").`,
		'',
		...tables,
		...(notes.length ? ['429s over time (seconds after the first request, route, how many within a second), and errors:', ...notes] : []),
	].join('\n');
}

function rateLimitSection(envelope: PartEnvelope<'ratelimit'>, data: BenchData): string {
	const { today, now } = generations(data, 'ratelimit');
	const any = (now ?? today) as RateLimitResult;
	const planned = (row: RateLimitRow) => (row.plan ?? (row.options.requestsPerMinute ? 'node option' : 'none')) !== 'none';
	const pick = (result: RateLimitResult | undefined, plan: boolean) => {
		const row = result?.rows.find((r) => planned(r) === plan);
		return row && result ? { row, result } : undefined;
	};
	type Cell = { row: RateLimitRow; result: RateLimitResult };
	const limitOf = ({ row, result }: Cell) => wallLimitMs(row.durationsMs ?? Array(row.items).fill(result.jobMs), result.limitPerMinute);
	const items = pick(now ?? today, true)?.row.items ?? pick(now ?? today, false)?.row.items ?? 20;
	const columns = [
		{ title: 'Plan stated: today', row: pick(today, true) },
		{ title: '**Plan on the credential: new**', row: pick(now, true) },
		{ title: 'No plan: today', row: pick(today, false) },
		{ title: '**No plan: new**', row: pick(now, false) },
	];
	const notes = [today, now].flatMap((result, index) =>
		(result?.rows ?? []).flatMap((row) => [
			...(row.throttleBursts?.length ? [`- ${index ? 'new' : 'today'}, ${row.variant}: 429s at ${row.throttleBursts.map((b) => `${b.atS.toFixed(1)} s ${b.route} ×${b.count}`).join(', ')}`] : []),
			...(row.errors.length ? [`- ${index ? 'new' : 'today'}, ${row.variant}: errors ${row.errors.join(' / ')}`] : []),
		]),
	);
	return [
		`## 3. Rate limit: one execution of ${items} items under ${any.limitPerMinute} requests/minute`,
		'',
		measuredNote(envelope),
		'',
		`${buildNote(today, now)}. The simulator allows ${any.limitPerMinute} requests per endpoint in any 60 s window (submits and status checks counted apart, like Bria) and answers 429 with Retry-After beyond that. ${any.jobMs / 1000} s jobs${any.jitterMs ? ` varying ± ${any.jitterMs / 1000} s` : ''}, downloadImage off, maxWaitTime 900 s, Continue On Fail on, default concurrency; each variant in a fresh process against its own simulator. "Plan stated": \`requestsPerMinute\` ${any.limitPerMinute} on the credential (today's build: the node option).`,
		'',
		figureTable<Cell>(columns, [
			['Failed items', ({ row }) => `${row.failed} / ${row.items}${row.cancelled ? ' (stopped at the bench limit)' : ''}`, '0'],
			['Requests (submits / status checks)', ({ row }) => `${row.requests} (${row.submits} / ${row.statusCalls})`, `${requestsLimit(items)} (${items} / ${items})`],
			['429s (submits / status checks) = share', ({ row }) => throttleText(row), '0'],
			['**Wall** = × its limit', (cell) => `**${seconds(cell.row.wallMs)}** = ${ratio(cell.row.wallMs / limitOf(cell))}`, seconds(wallLimitMs(Array(items).fill(any.jobMs), any.limitPerMinute))],
		]),
		...(notes.length ? ['', '429s over time (seconds after the first request, route, how many within a second), and errors:', ...notes] : []),
	].join('\n');
}

function lagSection(envelope: PartEnvelope<'lag'>, data: BenchData): string {
	const { today, now } = generations(data, 'lag');
	const any = (now ?? today) as LagResult;
	const keys = [...new Set([...(today?.rows ?? []), ...(now?.rows ?? [])].map((row) => `${row.jobMs}|${row.phase ?? 'first run'}`))].sort(
		(a, b) => Number(a.split('|')[0]) - Number(b.split('|')[0]) || (a.endsWith('learned') ? 1 : -1),
	);
	const find = (result: LagResult | undefined, key: string) => result?.rows.find((row) => `${row.jobMs}|${row.phase ?? 'first run'}` === key);
	const cell = (row: LagRow | undefined, value: (row: LagRow) => string) => (row ? value(row) : '–');
	const rows = keys.map((key) => {
		const [jobMs, phase] = key.split('|');
		const [before, after] = [find(today, key), find(now, key)];
		const sample = (after ?? before) as LagRow;
		return [
			seconds(Number(jobMs)),
			`${seconds(sample.jobMs - sample.spreadMs / 2)} – ${seconds(sample.jobMs + sample.spreadMs / 2)}`,
			phase,
			cell(before, (r) => `${r.callsMean.toFixed(2)} (${r.callsMax})`),
			cell(after, (r) => `**${r.callsMean.toFixed(2)}** (${r.callsMax})`),
			'1',
			cell(before, (r) => seconds(r.lagP95Ms, 2)),
			cell(after, (r) => `**${seconds(r.lagP95Ms, 2)}**`),
			'0',
			cell(before, (r) => seconds(r.lagP50Ms, 2)),
			cell(after, (r) => seconds(r.lagP50Ms, 2)),
			`${cell(before, (r) => String(r.failed))} / ${cell(after, (r) => String(r.failed))}`,
		];
	});
	return [
		'## 2. Status checks per job and completion-detection lag',
		'',
		measuredNote(envelope),
		'',
		table(
			['Job time', 'Durations', 'Run', 'Checks/job mean (max): today', 'new', 'limit', 'Lag p95: today', 'new', 'limit', 'Lag p50: today', 'new', 'Failed today / new'],
			rows,
		),
		'',
		`${buildNote(today, now)}. Each job time is one fresh process with its own simulator (no rate limit), ${any.rows[0]?.jobs ?? 0} jobs at once (concurrency ${any.concurrency}), durations spread evenly over the nominal time ± 10 %. "first run": the process has learned nothing; "learned": the same ${any.rows[0]?.jobs ?? 0} jobs submitted again in the same process right after. Lag = arrival of the status check that first reported COMPLETED minus the moment the job completed in the simulator. The physical limit is one check per job, sent the moment the job is done (lag 0). Status checks are counted per job from the simulator's log; each job is also held to issue 5's bound (its duration / 2 + 2 checks). Percentiles are nearest-rank. Rows without a run name were measured before the warm-up existed (first run only).`,
	].join('\n');
}

function cpuSection(envelope: PartEnvelope<'cpu'>, result: CpuResult): string {
	// Older figures carry no kind: their node rows are the ones named full / submit.
	const kindOf = (row: CpuRow) => row.kind ?? (!row.requestsPerItem ? 'baseline' : /^(full|submit)/.test(row.workload) ? 'node-http' : 'http');
	const baseline = result.rows.find((row) => kindOf(row) === 'baseline')?.medianMs ?? 0;
	const rows = result.rows.map((row) => {
		const kind = kindOf(row);
		const inMemory = kind === 'node-in-memory';
		return [
			inMemory ? `**${row.workload}**` : row.workload,
			`${row.items ?? result.items} × ${row.concurrency ?? result.concurrency}`,
			inMemory ? `${row.requestsPerItem} (in memory)` : String(row.requestsPerItem),
			inMemory ? `**${millis(row.medianMs)}**` : millis(row.medianMs),
			row.systemMs === undefined ? '–' : millis(row.systemMs),
			// Node runs through n8n's helpers carry the engine's per-item cost: per request, that baseline is taken off first.
			!row.requestsPerItem || inMemory ? '–' : millis((kind === 'node-http' ? row.medianMs - baseline : row.medianMs) / row.requestsPerItem),
			row.repeatsMs.map((ms) => ms.toFixed(2)).join(', '),
		];
	});
	const inMemory = result.rows.filter((row) => row.kind === 'node-in-memory');
	const memoryItems = inMemory[0]?.items ?? result.items;
	const memoryConcurrency = inMemory[0]?.concurrency ?? result.concurrency;
	const downloadOn = inMemory.find((row) => /downloadImage on/.test(row.workload));
	const downloadOff = inMemory.find((row) => /downloadImage off/.test(row.workload));
	// What storing the image costs, told apart from the node's own work by its system (file-write) share.
	const downloadNote =
		downloadOn && downloadOff && downloadOn.systemMs !== undefined && downloadOff.systemMs !== undefined
			? ` downloadImage on costs ${millis(downloadOn.medianMs - downloadOff.medianMs)} per item more than off, ${millis(downloadOn.systemMs - downloadOff.systemMs)} of it system CPU: n8n's prepareBinaryData storing each image on disk (a directory check, the file, its size, a metadata file); the node's own part of a download is handing the buffer over.`
			: '';
	return [
		'## 4. CPU per item, network taken out',
		'',
		measuredNote(envelope),
		'',
		table(['Workload', 'Items × concurrency', 'Requests/item', 'CPU per item (median)', 'of which system', 'Per request (node via helpers: above baseline)', 'Repeats (ms)'], rows),
		'',
		...(inMemory.length
			? [
					`**The target is judged on the node with the network taken out (in bold)${result.inMemoryMs !== undefined ? `: ${millis(result.inMemoryMs)} per item, the higher of its two variants` : ''}.** process.cpuUsage() (user + system) of the whole process over a run of ${memoryItems} items at concurrency ${memoryConcurrency}, divided by the items; nothing subtracted. The node's own execute runs in n8n-core's real ExecuteContext (the context n8n's engine hands a node), on items whose prompt is the expression \`={{ $json.prompt }}\`: parameter resolution, zod validation, the scheduler and its pacer, output building and prepareBinaryData into n8n's binary-data service (filesystem mode, n8n 2.x's default) are all real. Only the context's two request helpers (httpRequestWithAuthentication, httpRequest) are replaced by in-memory responders that answer like Bria (submit → 202 with request_id and status_url; status → 200 COMPLETED with image_url, seed and a FIBO structured prompt as a JSON string, as the simulator makes them; image → a small PNG), with no socket and no timer; their own small work is counted. Each item takes the requests the poll schedule gives a job that is done by its first check (part 2): submit, one status check, and the download when downloadImage is on. The scheduler's 1.5 s wait before that first check is sleep, not CPU: the items' waits overlap. The engine's own bookkeeping around the node call is not in these rows; the harness baseline shows it (${millis(baseline)} per item).${downloadNote}`,
					'',
				]
			: []),
		`The other rows are context, against the simulator in a separate process (its CPU is not counted), 0 s jobs, each workload warmed up once, then measured in interleaved repeats. The node via n8n's HTTP helpers costs ${millis(result.nodeShareMs)} per item above the harness baseline (${millis(result.totalMs)} in all): nearly all of it is n8n-core's request helpers, about 1 ms per request (httpRequestWithAuthentication builds a new http.Agent, hence a new connection, for every request, looks up proxy settings and evaluates the credential's expressions), which a community node is required to use for its requests. The baseline is n8n's engine running the node on items that fail validation before any request. n8n's httpRequest helper alone shows what the same two requests cost through n8n's plain request helper (no credential, no node); raw node:http what they cost with no n8n at all, over one keep-alive agent and with a new connection per request. Through the helpers, CPU per item grows with the requests per item the poll schedule makes (part 2).`,
	].join('\n');
}

function memorySection(envelope: PartEnvelope<'memory'>, result: MemoryResult): string {
	const first = result.rows[0];
	const figures: Array<[string, (row: MemoryRow) => string]> = [
		['Images downloaded', (row) => `${row.images} × ${(row.imageBytes / 1e6).toFixed(2)} MB${row.paddedTo ? ' (padded)' : ' (mean)'} = ${mib(row.downloadedBytes)}`],
		['Failed items', (row) => String(row.failed)],
		['Wall', (row) => seconds(row.wallMs)],
		['Baseline RSS (after a warm-up run)', (row) => mib(row.baselineRss)],
		['**Peak RSS** (sampled every 20 ms)', (row) => `**${mib(row.peakRss)}**`],
		['**Peak RSS − baseline**', (row) => `**${mib(row.peakRss - row.baselineRss)}**`],
		['Process high-water mark (resourceUsage().maxRSS)', (row) => mib(row.maxRss)],
		['Peak heap used', (row) => mib(row.peakHeapUsed)],
		['Peak external memory (large strings, Buffers)', (row) => mib(row.peakExternal)],
		['Peak ArrayBuffers (Buffers)', (row) => mib(row.peakArrayBuffers)],
		['RSS after the run, output items still held', (row) => mib(row.rssWithResults)],
		['RSS after the output items were released', (row) => mib(row.rssAfterRelease)],
	];
	return [
		`## 5. Memory: ${first?.images ?? 0} downloaded images`,
		'',
		measuredNote(envelope),
		'',
		table(
			['Figure', ...result.rows.map((row) => `binary data: ${row.binaryMode}`)],
			figures.map(([label, value]) => [label, ...result.rows.map(value)]),
		),
		'',
		`downloadImage on, default concurrency (${first?.concurrency ?? '?'}), 1 s jobs; each column is a fresh process. ${
			first?.paddedTo
				? `The simulator (own process) pads each PNG with a private ancillary chunk of random bytes to at least ${(first.paddedTo / 1e6).toFixed(1)} MB (BENCH_IMAGE_BYTES; unset, the pictures are used as drawn)`
				: `The simulator (own process) draws real pictures, 1024 px on the long side (${((first?.imageBytes ?? 0) / 1e6).toFixed(2)} MB on average here, the weight of Bria's results; BENCH_IMAGE_BYTES pads them to a larger size)`
		}. n8n's binary-data mode: "filesystem" is n8n 2.x's default outside queue mode (files on disk, the item holds an id); "default" keeps each file in the item as base64, as n8n 1.x did by default.`,
	].join('\n');
}

function errorSection(title: string, envelope: PartEnvelope): string {
	return [title, '', measuredNote(envelope), '', '**The part failed:**', '', '```', envelope.error ?? 'no result', '```'].join('\n');
}

const TITLES: Record<PartName, string> = {
	concurrency: '## 1. Concurrency',
	lag: '## 2. Status checks per job',
	ratelimit: '## 3. Rate limit',
	burst: '## 6. Burst of executions',
	cpu: '## 4. CPU per item',
	memory: '## 5. Memory',
	scale: '## 7. Scale',
	singles: '## 8. Many single-item executions',
	share: '## 9. Sharing a plan',
	fairness: '## 10. Fairness',
	pump: "## 11. The budget's own cost",
};

function section<P extends PartName>(part: P, envelope: PartEnvelope<P> | undefined, data: BenchData): string | undefined {
	if (!envelope) return undefined;
	if (!envelope.result) return errorSection(TITLES[part], envelope);
	// A variant that crashed leaves the others' rows: say which failed under them.
	const failure = envelope.error ? `\n\n**A variant failed:**\n\n\`\`\`\n${envelope.error}\n\`\`\`` : '';
	const result = envelope.result as PartResults[PartName];
	if ((SCALE_PARTS as readonly string[]).includes(part)) return (scaleSections13(part as ScalePart, envelope) ?? errorSection(TITLES[part], envelope)) + failure;
	switch (part) {
		case 'concurrency':
			return concurrencySection(envelope as PartEnvelope<'concurrency'>, result as ConcurrencyResult);
		case 'lag':
			return lagSection(envelope as PartEnvelope<'lag'>, data) + failure;
		case 'ratelimit':
			return rateLimitSection(envelope as PartEnvelope<'ratelimit'>, data) + failure;
		case 'burst':
			return burstSection(envelope as PartEnvelope<'burst'>, data) + failure;
		case 'cpu':
			return cpuSection(envelope as PartEnvelope<'cpu'>, result as CpuResult);
		default:
			return memorySection(envelope as PartEnvelope<'memory'>, result as MemoryResult);
	}
}

function machineSection(run: RunInfo): string {
	const m = run.machine;
	return [
		'## Machine and last run',
		'',
		table(
			['', ''],
			[
				['Date', run.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')],
				['Command', `\`${run.command}\``],
				['Parts run', run.parts.join(', ')],
				['Total runtime', duration(run.totalMs)],
				['CPU', `${m.cpuModel}${m.cpuMhz ? ` at ${Math.round(m.cpuMhz)} MHz` : ''}, nproc ${m.nproc}`],
				['Memory', `${(m.memTotalBytes / 2 ** 30).toFixed(1)} GiB`],
				['Node', m.node],
				['OS', m.os],
				['Load average (1 min) at start / end', `${m.loadStart.toFixed(2)} / ${m.loadEnd.toFixed(2)}`],
			],
		),
	].join('\n');
}

function targetSection(data: BenchData): string {
	const rows = verdicts(data).map((v) => {
		// Figures kept from an earlier (partial) run say so.
		const earlier = v.part && !data.run.parts.includes(v.part) ? data.parts[v.part]?.measuredAt : undefined;
		return [v.target, earlier ? `${v.measured} _(measured ${earlier.slice(0, 10)})_` : v.measured, verdict(v.pass)];
	});
	return ['## Targets', '', table(['Target', 'Measured', 'Result'], rows)].join('\n');
}

/** What `npm run bench` prints: the targets, then every part measured in this run. */
export function consoleReport(data: BenchData, ran: PartName[]): string {
	const sections = ran.map((part) => section(part, data.parts[part] as PartEnvelope<typeof part> | undefined, data)).filter(Boolean);
	return [machineSection(data.run), targetSection(data), ...sections].join('\n\n');
}

/** How the physical limit beside each rate-bound figure is computed (limits.ts). */
function limitSection(): string {
	return [
		'## How the physical limit is computed',
		'',
		'The limit is what no client could beat under the simulator\'s rules, which are Bria\'s: each endpoint (image submit, structured-prompt submit, status, model list) allows R requests in any 60 s window, counted apart; every job needs at least one submit and at least one status check that finds it done; a 429 never helps. Round trips on 127.0.0.1 (milliseconds) are left out.',
		'',
		'- **Requests**: one submit and one status check per job: 2 N requests, no 429.',
		'- **Wall** for N jobs at R per minute: the k-th submit (counting from 0) cannot leave before floor(k / R) windows have passed since the first, so the jobs fall into B = ceil(N / R) batches a window apart, and the last batch of r = N − (B − 1) · R jobs starts (B − 1) × 60 s in. The run cannot end before (B − 1) × 60 s plus the r-th shortest job duration. The status lane needs as many checks at the same rate, each batch one job time behind its submits, so it never binds tighter. Durations come from that run\'s simulator log (they vary ± 10 %), so each wall is divided by its own limit; the tables\' limit column shows it for nominal durations: 20 jobs of 5 s at 10/min → 60 + 5 = **65 s**; at 60/min (R ≥ N) → the longest job, ≈ **5 s**. Unconstrained rate: the longest job.',
		'- **Answers** of N executions started at once: the k-th answer (from 0, in order of arrival) needs k + 1 finished jobs, and only R submits fit in each window: floor(k / R) × 60 s + the job time. At 10/min, 10 executions can answer at ≈ 5 s and the other 10 at ≈ 65 s, so at most 10 of 20 answer within 2 × job time (10 s); at 60/min all 20 can.',
		'- **Status checks per job**: 1 (one check, sent when the job is done); **detection lag**: 0.',
	].join('\n');
}

const DATA_MARKER = '<!-- bench-data -->';

export function markdownDocument(data: BenchData, partOrder: readonly PartName[]): string {
	const sections = partOrder.map((part) => section(part, data.parts[part] as PartEnvelope<typeof part> | undefined, data)).filter(Boolean);
	return [
		'# Benchmarks',
		'',
		'Figures from `npm run bench` (scripts/bench.ts, scripts/bench/) run against the project\'s Bria simulator on 127.0.0.1. This file is generated: the next run overwrites it.',
		'',
		'- Run a part alone: `npm run bench -- burst` (any subset of concurrency lag ratelimit cpu memory burst; or `BENCH_PARTS=lag npm run bench`), or one variant of a rate-bound part: `npm run bench -- burst:plan-10 ratelimit:learn lag:10s` (burst: plan-10 learn-10 plan-60 learn-60; ratelimit: plan learn; lag: 2s 10s 30s). Parts and variants not run keep their previous figures; each part says when it was measured.',
		"- Issue 13's parts: `npm run bench -- scale:300 scale:1000 scale:1000-downloads singles:100 share:2proc share:alone fairness:overload fairness:under pump` (or a part with all its variants: `scale`, `singles`, `share`, `fairness`). Their rows carry the scheduler generation that measured them: **today** = the node of commit a71375e (measured on a tree exported at that commit, with this bench laid over it: `scripts/bench-at-commit.sh a71375e today scale singles share fairness pump`), **new** = any other tree (found by comparing nodes/ and credentials/ with a71375e, or `BENCH_GENERATION=new`); a run replaces only its own generation's rows of the variants it ran. scale and singles run one variant after another in fresh processes (their CPU and event-loop figures are not shared); share and fairness wait side by side with the rate-bound parts; each run has a cap (5 min for scale and singles, 6 min for share, 10 min for fairness) after which it is stopped and reported as not done.",
		'- `BENCH_FULL=1 npm run bench` also runs 50 items sequentially for real instead of extrapolating them: the concurrency part then takes about 4 minutes instead of under 2 (the whole run about 1 to 2 minutes more).',
		'- Every part runs in its own process, with the simulator in a separate child process. The rate-bound parts (lag, ratelimit, burst: minutes of mostly waiting, bounded by the rate, not the CPU) run every variant in its own fresh process, all side by side and alongside the CPU-bound parts, which run one after another: the whole run takes about as long as its slowest rate-bound variant (today\'s burst without a plan, a few minutes). A fresh process per variant is also what clears the node\'s module-level state (its organization budget and the job durations it learned): nothing measured in one variant helps another.',
		'- Figures measured on a build that paces per execution (before issue 8) are kept as **today\'s** beside the new ones; a run files its figures by itself, from whether the credential has the `requestsPerMinute` field.',
		'',
		machineSection(data.run),
		'',
		targetSection(data),
		'',
		limitSection(),
		'',
		...sections.flatMap((text) => [text as string, '']),
		'## Raw data',
		'',
		'<details><summary>JSON of the figures above (read back by the next partial run)</summary>',
		'',
		DATA_MARKER,
		'```json',
		JSON.stringify(data, null, '\t'),
		'```',
		'',
		'</details>',
		'',
	].join('\n');
}

/** The figures embedded in an earlier BENCHMARKS.md, if any. */
export function readPreviousData(markdown: string | undefined): BenchData | undefined {
	if (!markdown) return undefined;
	const at = markdown.indexOf(DATA_MARKER);
	if (at < 0) return undefined;
	const match = /```json\n([\s\S]*?)\n```/.exec(markdown.slice(at));
	if (!match) return undefined;
	try {
		return JSON.parse(match[1]) as BenchData;
	} catch {
		return undefined;
	}
}
