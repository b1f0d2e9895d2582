/**
 * The report of issue 13's parts (scale, singles, share, fairness, pump): their sections and
 * target verdicts, today's scheduler (commit a71375e) beside the rebuilt one, every rate-bound
 * figure beside its physical limit (limits.ts).
 */
import type { FairnessRow, GenerationStamp, PartEnvelope, PumpRow, ScalePart, ScaleRow, ShareRow, SinglesRow } from './types';

type Envelopes = Partial<{ [P in ScalePart]: PartEnvelope<P> }>;

interface Verdict13 {
	part: ScalePart;
	target: string;
	measured: string;
	pass: boolean | undefined;
}

const seconds = (ms: number, digits = 1) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(digits)} s` : 'n/a');
const millis = (ms: number | undefined, digits = 2) => (ms !== undefined && Number.isFinite(ms) ? `${ms.toFixed(digits)} ms` : 'n/a');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');
const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
const share = (row: { throttled: number; requests: number }) => (row.requests ? row.throttled / row.requests : 0);
const loadText = (row: GenerationStamp) => `${row.load[0].toFixed(2)} / ${row.load[1].toFixed(2)}`;
const cap = (row: { capMs: number }) => seconds(row.capMs, 0);

function table(header: string[], rows: string[][]): string {
	const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
	return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function measuredNote(envelope: PartEnvelope): string {
	return `_Last measured ${envelope.measuredAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}; that run took ${Math.round(envelope.durationMs / 1000)} s._`;
}

function rowsOf<R extends { variant: string; generation: string }>(envelope: PartEnvelope | undefined): R[] {
	return ((envelope?.result as { rows?: R[] } | undefined)?.rows ?? []) as R[];
}

const pick = <R extends { variant: string; generation: string }>(rows: R[], variant: string, generation: 'today' | 'new') =>
	rows.find((row) => row.variant === variant && row.generation === generation);

/** The newest figure judged, today's beside it. */
function judged<R extends { variant: string; generation: string }>(rows: R[], variant: string, text: (row: R) => string, pass: (row: R) => boolean) {
	const today = pick(rows, variant, 'today');
	const now = pick(rows, variant, 'new');
	const latest = now ?? today;
	const measured = now ? `${text(now)}${today ? ` (today: ${text(today)})` : ''}` : today ? `today: ${text(today)}` : 'not measured';
	return { measured, pass: latest ? pass(latest) : undefined };
}

/** A figure table: one column per generation that measured the variant, the physical limit last. */
function figures<R extends GenerationStamp & { variant: string }>(rows: R[], variant: string, lines: Array<[string, (row: R) => string, string]>): string {
	const columns = (['today', 'new'] as const).map((generation) => pick(rows, variant, generation)).filter((row): row is R => !!row);
	if (!columns.length) return '';
	const title = (row: R) => (row.generation === 'today' ? `today (${row.commit})` : `**new** (${row.commit})`);
	return table(
		['Figure', ...columns.map(title), 'Physical limit'],
		[...lines, ['Load average (1 min) at start / end', loadText, '–'] as [string, (row: R) => string, string]].map(([label, value, limit]) => [label, ...columns.map(value), limit]),
	);
}

// ---------- scale ----------

const wallCell = (row: { wallMs: number; limitMs: number; stoppedAtCap: boolean; capMs: number }, extra = '') =>
	row.stoppedAtCap ? `**not done after ${cap(row)}**${extra} = > ${ratio(row.wallMs / row.limitMs)}` : `**${seconds(row.wallMs)}** = ${ratio(row.wallMs / row.limitMs)}`;

function scaleWall(row: ScaleRow): string {
	return wallCell(row, row.stoppedAtCap ? `: ${row.submitted} of ${row.items} submitted, ${row.completed} done` : '');
}

function cpuText(row: ScaleRow): string {
	if (!row.cpu) return '–';
	const order = ["node's own code", "n8n's request helper (axios, sockets)", "n8n's binary store", "n8n's engine (parameters, expressions, items)", 'garbage collector', 'other (harness, timers, V8)'];
	const names = [...order.filter((name) => name in row.cpu!.sampledMsPerJob), ...Object.keys(row.cpu.sampledMsPerJob).filter((name) => !order.includes(name))];
	return names.map((name) => `${name} ${millis(row.cpu!.sampledMsPerJob[name])}`).join('; ');
}

function scaleSection(envelope: PartEnvelope<'scale'>): string {
	const rows = rowsOf<ScaleRow>(envelope);
	const variants = [...new Set(rows.map((row) => row.variant))];
	const tables = variants.flatMap((variant) => {
		const sample = (pick(rows, variant, 'new') ?? pick(rows, variant, 'today')) as ScaleRow;
		return [
			`### ${variant}: one execution of ${sample.items} items × ${sample.jobMs / 1000} s jobs, ${sample.perMinute}/min, downloads ${sample.download ? 'on' : 'off'}`,
			'',
			figures<ScaleRow>(rows, variant, [
				['Jobs submitted / found done / failed', (row) => `${row.submitted} / ${row.completed} / ${row.failed} of ${row.items}`, `${sample.items} / ${sample.items} / 0`],
				['Requests (submits / status checks)', (row) => `${row.requests} (${row.submits} / ${row.statusCalls})`, `${2 * sample.items} (${sample.items} / ${sample.items})`],
				['429s (submits / status checks) = share', (row) => `${row.throttled} (${row.submits429} / ${row.status429}) = ${percent(share(row))}`, '0'],
				['**Wall** = × its limit', scaleWall, seconds(sample.limitMs)],
				['Event-loop delay p99 (p50 / max)', (row) => (row.lag ? `**${millis(row.lag.p99Ms, 1)}** (${millis(row.lag.p50Ms, 1)} / ${millis(row.lag.maxMs, 0)})` : '–'), '–'],
				['CPU per job done, whole process incl. the profiler (of which system)', (row) => (row.cpu ? `${millis(row.cpu.totalMsPerJob)} (${millis(row.cpu.systemMsPerJob)})` : '–'), '–'],
				['Main-thread CPU per job done, by owner (sampled)', cpuText, '–'],
				...(sample.download
					? ([
							[
								'Images downloaded / in the output (mean size, binary mode)',
								(row) => (row.rss ? `${row.rss.downloads ?? '?'} / ${row.rss.images}${row.rss.images ? ` (${(row.rss.imageBytesMean / 1e6).toFixed(2)} MB, ${row.rss.binaryMode})` : ''}` : '–'),
								`${sample.items} / ${sample.items}`,
							],
							['**Peak RSS − idle process** (peak / idle)', (row) => (row.rss ? `**${mib(row.rss.peakRss - row.rss.baselineRss)}** (${mib(row.rss.peakRss)} / ${mib(row.rss.baselineRss)})` : '–'), '–'],
							[
								'Still held after the run, output released, GC: RSS / ArrayBuffers above idle',
								(row) => (row.rss?.retained ? `${mib(row.rss.retained.rss)} / ${mib(row.rss.retained.arrayBuffers)}` : 'not measured'),
								'0 / 0',
							],
						] as Array<[string, (row: ScaleRow) => string, string]>)
					: []),
			]),
			'',
		];
	});
	return [
		'## 7. Scale: one execution of hundreds of items (issue 13)',
		'',
		measuredNote(envelope),
		'',
		"today = the node as of commit a71375e; new = the rebuilt scheduler. One execution in n8n's real engine (WorkflowExecute, n8n-core 2.11.1 in this process), every variant in a fresh process against its own simulator (own process), which allows the plan per endpoint in any 60 s window; the plan is stated on the credential; the node's settings are its defaults (Concurrency included); 10 s jobs varying ± 10 %. A run still going at the cap is stopped (as n8n's Stop does) and reported as not done, with how many jobs the simulator had accepted and how many the node's checks had found done by then. The limit is computed from the run's own job durations (jobs never submitted count at the nominal time): with the plan at or above the items, the longest job. Event-loop delay: perf_hooks.monitorEventLoopDelay at 10 ms resolution (the resolution taken off) over the whole run. CPU: process.cpuUsage() over the run divided by the jobs done (all threads, the sampling profiler's own work included: its signal every millisecond is most of the system time); by owner: a sampling CPU profile of the main thread (1 ms), each sample counted for the innermost frame whose script is the node's own (nodes/BriaTailored), n8n-core's request helper (with axios and Node's HTTP/net/TLS modules under it, socket callbacks included), n8n's binary-data store (with node:fs), or the rest of n8n's engine (n8n-core, n8n-workflow: parameters, expressions, items); idle time left out. The download variant asks for 16 distinct (prompt, seed) pictures, each a real 1024 px PNG of 1-2 MB that the simulator draws once and serves from memory after, stored by n8n in its filesystem binary-data mode; idle process = engine loaded and one execution run, after garbage collection; RSS sampled every 20 ms (the profile is stopped and serialized only after).",
		'',
		"Why a first run of 1000 jobs at 1000/min cannot come near its limit: the limit (the longest job) assumes each job is checked once, after it is done, and the status lane allows exactly 1000 checks in any 60 s. A process that has never seen such a job does not know when they end; any check that finds a job still running (the first, at the least) leaves fewer turns than jobs in the first window, so at least one job's check waits for the window to move: about 60 s, whatever the client does. `1000-learned` runs 60 such jobs first in the same process (then waits a window so both lanes start afresh) and measures the same 1000: what any process that ran this kind of job before sees.",
		'',
		...tables,
	].join('\n');
}

function scaleVerdicts(envelope: PartEnvelope<'scale'> | undefined): Verdict13[] {
	const rows = rowsOf<ScaleRow>(envelope);
	const wall = (row: ScaleRow) => (row.stoppedAtCap ? `not done after ${cap(row)} (${row.submitted} of ${row.items} submitted, ${row.completed} done)` : `wall ${seconds(row.wallMs)} = ${ratio(row.wallMs / row.limitMs)} limit`);
	return [
		{
			part: 'scale',
			target: 'one execution, 300 items × 10 s, 600/min plan, default settings: 0 failed, 0 × 429, wall ≤ 1.5 × limit',
			...judged(rows, '300', (row) => `${row.failed} failed, ${row.throttled} × 429, ${wall(row)}`, (row) => !row.stoppedAtCap && row.failed === 0 && row.throttled === 0 && row.wallMs <= 1.5 * row.limitMs),
		},
		...(
			[
				['1000', 'one execution, 1000 items × 10 s, 1000/min plan'],
				['1000-learned', 'the same 1000 items in a process that has run such jobs before (60, then a quiet window)'],
			] as const
		).map(([variant, what]) => ({
			part: 'scale' as const,
			target: `${what}: wall ≤ 1.5 × limit, event-loop delay p99 ≤ 20 ms`,
			...judged(
				rows,
				variant,
				(row) => `${wall(row)}, ${row.failed} failed, ${row.throttled} × 429, loop delay p99 ${millis(row.lag?.p99Ms, 1)}`,
				(row) => !row.stoppedAtCap && row.wallMs <= 1.5 * row.limitMs && (row.lag?.p99Ms ?? Infinity) <= 20,
			),
		})),
		{
			part: 'scale',
			target: '1000 items × 10 s, downloads on (1-2 MB PNGs, filesystem binary mode): peak RSS ≤ 400 MB above the idle process',
			...judged(
				rows,
				'1000-downloads',
				(row) => `${row.rss ? mib(row.rss.peakRss - row.rss.baselineRss) : 'n/a'} (${row.rss?.downloads ?? row.rss?.images ?? 0} images downloaded${row.stoppedAtCap ? `, not done after ${cap(row)}` : ''})`,
				(row) => !row.stoppedAtCap && !!row.rss && row.rss.images === row.items && row.rss.peakRss - row.rss.baselineRss <= 400e6,
			),
		},
	];
}

// ---------- singles ----------

function singlesSection(envelope: PartEnvelope<'singles'>): string {
	const rows = rowsOf<SinglesRow>(envelope);
	const variants = [...new Set(rows.map((row) => row.variant))];
	const tables = variants.flatMap((variant) => {
		const sample = (pick(rows, variant, 'new') ?? pick(rows, variant, 'today')) as SinglesRow;
		const median = (list: number[]) => list[Math.ceil(list.length / 2) - 1];
		return [
			`### ${sample.executions} executions at once, ${sample.perMinute}/min`,
			'',
			figures<SinglesRow>(rows, variant, [
				['Failed executions', (row) => `${row.failed} / ${row.executions}${row.stoppedAtCap ? ` (stopped at the ${cap(row)} cap)` : ''}`, '0'],
				['Requests (submits / status checks)', (row) => `${row.requests} (${row.submits} / ${row.statusCalls})`, `${2 * sample.executions} (${sample.executions} / ${sample.executions})`],
				['429s (submits / status checks) = share', (row) => `${row.throttled} (${row.submits429} / ${row.status429}) = ${percent(share(row))}`, '0'],
				['**Wall** = × its limit', (row) => wallCell(row), seconds(sample.limitMs)],
				['Answers: first / median / last', (row) => (row.answersMs.length ? `${seconds(row.answersMs[0])} / ${seconds(median(row.answersMs))} / ${seconds(row.answersMs[row.answersMs.length - 1])}` : 'none'), `≈ ${seconds(sample.jobMs)} each`],
				['Event-loop delay p99 (p50 / max)', (row) => (row.lag ? `${millis(row.lag.p99Ms, 1)} (${millis(row.lag.p50Ms, 1)} / ${millis(row.lag.maxMs, 0)})` : '–'), '–'],
			]),
			'',
		];
	});
	return [
		'## 8. Many single-item executions at once (issue 13)',
		'',
		measuredNote(envelope),
		'',
		"today = the node as of commit a71375e; new = the rebuilt scheduler. Each execution runs in n8n's real engine (its own WorkflowExecute), one item, 10 s jobs varying ± 10 %, downloads off, otherwise default settings, the plan stated on the credential; all started at once in one process, against a simulator (own process) allowing the plan per endpoint per 60 s. Limit: with the plan above the executions, the longest job (from the run's own durations).",
		'',
		...tables,
	].join('\n');
}

function singlesVerdicts(envelope: PartEnvelope<'singles'> | undefined): Verdict13[] {
	const rows = rowsOf<SinglesRow>(envelope);
	return [
		{
			part: 'singles',
			target: '100 single-item executions at once, 600/min plan: 0 failed, 0 × 429, wall ≤ 2 × limit',
			...judged(rows, '100', (row) => `${row.failed} failed, ${row.throttled} × 429, wall ${seconds(row.wallMs)} = ${ratio(row.wallMs / row.limitMs)} limit`, (row) => row.failed === 0 && row.throttled === 0 && row.wallMs <= 2 * row.limitMs),
		},
	];
}

// ---------- share ----------

function shareSection(envelope: PartEnvelope<'share'>): string {
	const rows = rowsOf<ShareRow>(envelope);
	const any = rows[0];
	const variants = ['2proc', 'alone'].filter((variant) => rows.some((row) => row.variant === variant));
	const tables = variants.flatMap((variant) => {
		const sample = (pick(rows, variant, 'new') ?? pick(rows, variant, 'today')) as ShareRow;
		const jobs = sample.processes * sample.executionsPerProcess;
		return [
			`### ${variant === 'alone' ? `one process alone, ${jobs} executions` : `${sample.processes} processes × ${sample.executionsPerProcess} executions`}, each stating the full ${sample.perMinute}/min plan`,
			'',
			figures<ShareRow>(rows, variant, [
				['Failed executions', (row) => `${row.failed} / ${jobs}${row.stoppedAtCap ? ` (stopped at the ${cap(row)} cap)` : ''}`, '0'],
				['Requests (submits / status checks)', (row) => `${row.requests} (${row.submits} / ${row.statusCalls})`, `${2 * jobs} (${jobs} / ${jobs})`],
				['**429s** (submits / status checks) = **share**', (row) => `${row.throttled} (${row.submits429} / ${row.status429}) = **${percent(share(row))}**`, '0'],
				['**Wall** = × its limit', (row) => wallCell(row), seconds(sample.limitMs)],
				['Last answer per process', (row) => row.perProcess.map((p, index) => `${String.fromCharCode(65 + index)} ${seconds(p.lastAnswerMs)}`).join(', '), '–'],
				['429s over time (s after the first request, route ×count)', (row) => row.throttleBursts.map((b) => `${b.atS.toFixed(0)} ${b.route} ×${b.count}`).join(', ') || 'none', '–'],
			]),
			'',
		];
	});
	return [
		'## 9. Sharing a plan without seeing each other (issue 13)',
		'',
		measuredNote(envelope),
		'',
		`today = the node as of commit a71375e; new = the rebuilt scheduler. Separate processes (as queue-mode workers are), each with its own organization budget and each stating the organization's full plan (${any?.perMinute ?? 10}/min) on its credential, against ONE simulator (own process) allowing that many requests per endpoint per 60 s; ${any ? any.jobMs / 1000 : 5} s jobs varying ± 10 %, downloads off, default settings, every process starts its burst of single-item executions at the same moment. All jobs go through one organization's limit, so alone or shared the physical limit is the same (from the run's own durations).`,
		'',
		...tables,
	].join('\n');
}

function shareVerdicts(envelope: PartEnvelope<'share'> | undefined): Verdict13[] {
	const rows = rowsOf<ShareRow>(envelope);
	const text = (row: ShareRow) => `${row.failed} failed, ${row.throttled} of ${row.requests} = ${percent(share(row))} 429, wall ${seconds(row.wallMs)} = ${ratio(row.wallMs / row.limitMs)} limit`;
	return [
		{
			part: 'share',
			target: 'two processes each stating the full 10/min plan, one 10/min limit, a burst on both: 429s ≤ 10 % of requests, wall ≤ 1.3 × limit',
			...judged(rows, '2proc', text, (row) => row.failed === 0 && share(row) <= 0.1 && row.wallMs <= 1.3 * row.limitMs),
		},
		{
			part: 'share',
			target: 'one process alone stating the 10/min plan reaches the full plan: 0 failed, wall ≤ 1.3 × limit',
			...judged(rows, 'alone', text, (row) => row.failed === 0 && row.wallMs <= 1.3 * row.limitMs),
		},
	];
}

// ---------- fairness ----------

/** Windows after the first, while the stream lasts (it ends at streamMs). */
const streamWindows = (row: FairnessRow) => row.windows.filter((w) => w.window >= 1 && (w.window + 1) * 60_000 <= row.streamMs);
const batchTurns = (row: FairnessRow) => streamWindows(row).map((w) => w.batchSubmits + w.batchChecks);
const batchShare = (row: FairnessRow) => {
	const windows = streamWindows(row);
	const all = windows.reduce((sum, w) => sum + w.batchSubmits + w.batchChecks + w.singleSubmits + w.singleChecks, 0);
	return all ? windows.reduce((sum, w) => sum + w.batchSubmits + w.batchChecks, 0) / all : NaN;
};

function fairnessSection(envelope: PartEnvelope<'fairness'>): string {
	const rows = rowsOf<FairnessRow>(envelope);
	const variants = ['overload', 'under'].filter((variant) => rows.some((row) => row.variant === variant));
	const tables = variants.flatMap((variant) => {
		const sample = (pick(rows, variant, 'new') ?? pick(rows, variant, 'today')) as FairnessRow;
		const fair = sample.offeredShare >= 1 ? 'round-robin: ≈ 1 in 10 turns' : `the plan's spare: ≈ ${percent(Math.max(0, 1 - sample.offeredShare))} of turns`;
		const perWindow = (row: FairnessRow) => row.windows.map((w) => `${w.window}: ${w.batchSubmits}+${w.batchChecks} / ${w.singleSubmits}+${w.singleChecks}`).join('; ');
		return [
			`### ${variant}: a ${sample.batchItems}-item execution, then a single-item execution every ${sample.intervalMs / 1000} s for ${sample.streamMs / 60_000} min (${Math.round(sample.offeredShare * 100)} % of the plan)`,
			'',
			figures<FairnessRow>(rows, variant, [
				['Every execution completed? (batch items failed; singles failed)', (row) => `${row.batchFailed || row.singlesFailed ? '**no**' : 'yes'} (${row.batchFailed} / ${row.batchItems}; ${row.singlesFailed} / ${row.singles})${row.stoppedAtCap ? `, stopped at the ${cap(row)} cap` : ''}`, 'yes'],
				['**Batch turns per window while the stream lasts** (windows 1…, submits + checks)', (row) => `**${batchTurns(row).join(', ') || 'none'}** = ${percent(batchShare(row))} of those windows' turns`, fair],
				["Singles' answer time p50 / p95", (row) => `${seconds(row.singlesAnswerP50Ms)} / ${seconds(row.singlesAnswerP95Ms)}`, `${seconds(sample.singlesDurationP50Ms)} / ${seconds(sample.singlesDurationP95Ms)} (their jobs)`],
				[
					'Wall (batch start to last answer) = × its limit',
					(row) => `${seconds(row.wallMs)} = ${ratio(row.wallMs / row.limitMs)}${row.batchFailed + row.singlesFailed ? ` (${row.batchFailed + row.singlesFailed} jobs never done: the limit counts them)` : ''}`,
					seconds(sample.limitMs),
				],
				['429s (submits / status checks) = share', (row) => `${row.throttled} (${row.submits429} / ${row.status429}) = ${percent(share(row))}`, '0'],
				['Turns per window (window: batch submits+checks / singles submits+checks)', perWindow, `${sample.perMinute} + ${sample.perMinute} per window`],
				['Errors', (row) => row.errors.join(' / ') || 'none', '–'],
			]),
			'',
		];
	});
	return [
		'## 10. Fairness: a batch under a stream of new executions (issue 13)',
		'',
		measuredNote(envelope),
		'',
		"today = the node as of commit a71375e; new = the rebuilt scheduler. Plan 10/min stated on the credential, the simulator (own process) allowing 10 per endpoint per 60 s; 5 s jobs varying ± 10 %, downloads off, default settings (Max Wait Time included). All executions run in one process (one organization budget), each its own execution in n8n's real engine. A turn is a request the simulator accepted (429s not counted), attributed to the batch or a single by its job; windows are 60 s from the first request. Wall limit: every job's submit at or after its arrival and its check at or after its end, each endpoint at most 10 per 60 s, served earliest-first (a lower bound for any client). Singles' answer limit: their own job durations.",
		'',
		...tables,
	].join('\n');
}

function fairnessVerdicts(envelope: PartEnvelope<'fairness'> | undefined): Verdict13[] {
	const rows = rowsOf<FairnessRow>(envelope);
	const text = (row: FairnessRow) =>
		`${row.batchFailed + row.singlesFailed === 0 ? 'all completed' : `${row.batchFailed} batch items and ${row.singlesFailed} singles failed`}; batch turns per window ${batchTurns(row).join(', ') || 'none'} (${percent(batchShare(row))}); singles p50 / p95 ${seconds(row.singlesAnswerP50Ms)} / ${seconds(row.singlesAnswerP95Ms)}`;
	const pass = (row: FairnessRow) => row.batchFailed === 0 && row.singlesFailed === 0 && batchTurns(row).length > 0 && batchTurns(row).every((turns) => turns > 0);
	return [
		{ part: 'fairness', target: 'plan 10/min, 20-item batch + a single every 5 s (120 %): every execution completes, the batch gets turns in every window while the stream lasts', ...judged(rows, 'overload', text, pass) },
		{ part: 'fairness', target: 'the same at 80 % (a single every 7.5 s): every execution completes, the batch gets turns in every window (about a fifth)', ...judged(rows, 'under', text, pass) },
	];
}

// ---------- pump ----------

function pumpSection(envelope: PartEnvelope<'pump'>): string {
	const rows = rowsOf<PumpRow>(envelope);
	const cells = [...new Map(rows.map((row) => [`${row.plan}|${row.waiters}`, row])).values()].sort((a, b) => a.plan - b.plan || a.waiters - b.waiters);
	// CPU time first (robust on a shared machine), wall time after it.
	const us = (row: PumpRow | undefined, value: (row: PumpRow | PumpRow['wall']) => number, bold = false) => {
		if (!row) return '–';
		const text = `${millis(value(row) / 1000, 3)} (${millis(value(row.wall) / 1000, 3)})`;
		return bold ? `**${text}**` : text;
	};
	const body = cells.map(({ plan, waiters, variant }) => {
		const today = pick(rows, variant, 'today');
		const now = pick(rows, variant, 'new');
		return [
			`${plan}/min`,
			String(waiters),
			us(today, (row) => row.arrivalUs),
			us(now, (row) => row.arrivalUs, true),
			us(today, (row) => row.answerUs),
			us(now, (row) => row.answerUs, true),
			us(today, (row) => row.wakeUs),
			us(now, (row) => row.wakeUs, true),
			us(today, (row) => row.cycleP95Us),
			us(now, (row) => row.cycleP95Us, true),
			`${today ? `${today.cycles} (${loadText(today)})` : '–'} / ${now ? `${now.cycles} (${loadText(now)})` : '–'}`,
		];
	});
	const commits = [...new Set(rows.map((row) => `${row.generation} = ${row.commit}`))].join('; ');
	return [
		"## 11. The budget's own cost per event (issue 13)",
		'',
		measuredNote(envelope),
		'',
		table(
			['Plan', 'Waiting', 'Arrival: today', 'new', 'Answer: today', 'new', 'Wake + grant: today', 'new', 'Whole cycle p95: today', 'new', 'Cycles (load start / end): today / new'],
			body,
		),
		'',
		`${commits}. A microbenchmark of the organization budget through its public surface only (organizationBudget with the plan stated, lane('status').acquire({ party }) → Turn.answered(), useClock, resetBudgets), on a fake clock, one process, no n8n, no network. Per cell: a fresh budget whose window holds the plan's worth of answered requests spread over the last 60 s (full), and that many requests waiting, each from its own party (execution). Then, until about ${Math.round(4)} s or 300 cycles have passed: the clock moves to the lane's next wake-up (the oldest request leaves the window), the lane wakes and grants one waiter (wake + grant), that request is answered (answer), and one new party arrives and waits (arrival), so the window stays full and the queue keeps its length. Each event is timed with every microtask it sets off (a setImmediate drain, an empty drain's cost taken off): the process's CPU time (process.cpuUsage, robust when other work holds the cores), then wall time in parentheses; medians, and the p95 of a whole cycle. The limit is 0: what matters is that the cost does not grow with the plan or the queue.`,
	].join('\n');
}

// ---------- entry points for report.ts ----------

export function scaleSections13(part: ScalePart, envelope: PartEnvelope | undefined): string | undefined {
	if (!envelope?.result) return undefined;
	switch (part) {
		case 'scale':
			return scaleSection(envelope as PartEnvelope<'scale'>);
		case 'singles':
			return singlesSection(envelope as PartEnvelope<'singles'>);
		case 'share':
			return shareSection(envelope as PartEnvelope<'share'>);
		case 'fairness':
			return fairnessSection(envelope as PartEnvelope<'fairness'>);
		default:
			return pumpSection(envelope as PartEnvelope<'pump'>);
	}
}

export function verdicts13(parts: Envelopes): Verdict13[] {
	return [...scaleVerdicts(parts.scale), ...singlesVerdicts(parts.singles), ...shareVerdicts(parts.share), ...fairnessVerdicts(parts.fairness)];
}
