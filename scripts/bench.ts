/**
 * `npm run bench`: performance figures of the Bria Tailored node against the project's simulator
 * on 127.0.0.1, printed as tables with PASS/MISS against the targets of issues 5 and 8, each
 * rate-bound figure beside its physical limit, and written to docs/BENCHMARKS.md. A benchmark,
 * not a test: a MISS never fails the run.
 *
 * Parts (default all; choose with arguments or BENCH_PARTS): concurrency, lag, ratelimit, burst,
 * cpu, memory, and issue 13's scale, singles, share, fairness, pump; one variant of a part as
 * `part:variant` (e.g. `burst:plan-10`, `scale:300`). Issue 13's rows carry the scheduler
 * generation that measured them (today's = commit a71375e, or the rebuilt one): see common.ts.
 * BENCH_FULL=1 also runs 50 items sequentially for real. Each part runs in its own process
 * (bench/worker.ts) so CPU and memory figures are never shared. The rate-bound parts (lag,
 * ratelimit, burst: minutes of mostly waiting) run every variant in its own fresh process, all
 * side by side and alongside the CPU-bound parts, which run one after another.
 * Figures of a build that paces per execution (before issue 8) are also kept as "today's", so
 * the report shows them beside the figures of the organization-wide budget.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BURST_VARIANTS } from './bench/burst';
import { FAIRNESS_VARIANTS } from './bench/fairness';
import { LAG_VARIANTS } from './bench/lag';
import { BINARY_MODES } from './bench/memory';
import { RATE_LIMIT_VARIANTS } from './bench/rateLimit';
import { SCALE_VARIANTS, SINGLES_VARIANTS } from './bench/scale';
import { SHARE_VARIANTS } from './bench/share';
import { consoleReport, duration, machineInfo, markdownDocument, readPreviousData } from './bench/report';
import type { BenchData } from './bench/report';
import { PART_NAMES, RATE_BOUND_PARTS, SCALE_PARTS, WAITING_SCALE_PARTS } from './bench/types';
import type { BuildStamp, OrchestratorMessage, PartEnvelope, PartName, RateBoundPart, ScalePart, WorkerMessage } from './bench/types';

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = path.join(ROOT, 'docs', 'BENCHMARKS.md');
const FULL = process.env.BENCH_FULL === '1';

/** Outer bound of each part's process; the parts bound their own runs more tightly. */
const PART_LIMIT_MS: Record<PartName, number> = {
	concurrency: (FULL ? 14 : 7) * 60_000,
	lag: 6 * 60_000,
	ratelimit: 11 * 60_000,
	burst: 10 * 60_000,
	cpu: 8 * 60_000,
	memory: 4 * 60_000,
	// Issue 13's parts: each run caps itself (5, 6, 10 min); these bound the process around it.
	scale: 8 * 60_000,
	singles: 7 * 60_000,
	share: 8 * 60_000,
	fairness: 12 * 60_000,
	pump: 6 * 60_000,
};

/** Parts whose figures need a clean heap: they may call gc(). */
const NEEDS_GC: PartName[] = ['cpu', 'memory', 'scale'];

/** Parts with variants, each variant measured in its own fresh process. */
type VariantPart = RateBoundPart | Exclude<ScalePart, 'pump'>;
const VARIANTS: Record<VariantPart, string[]> = {
	lag: Object.keys(LAG_VARIANTS),
	ratelimit: Object.keys(RATE_LIMIT_VARIANTS),
	burst: Object.keys(BURST_VARIANTS),
	scale: Object.keys(SCALE_VARIANTS),
	singles: Object.keys(SINGLES_VARIANTS),
	share: Object.keys(SHARE_VARIANTS),
	fairness: Object.keys(FAIRNESS_VARIANTS),
};

const isRateBound = (part: PartName): part is RateBoundPart => (RATE_BOUND_PARTS as readonly string[]).includes(part);
const hasVariants = (part: PartName): part is VariantPart => part in VARIANTS;
/** Variants that mostly wait: all side by side (the rate-bound parts, issue 13's share and fairness). */
const waitsSideBySide = (part: PartName): part is VariantPart => isRateBound(part) || (WAITING_SCALE_PARTS as readonly string[]).includes(part);
const isScalePart = (part: PartName): part is ScalePart => (SCALE_PARTS as readonly string[]).includes(part);

/** Parts chosen on the command line (or BENCH_PARTS), each with the variants chosen (rate-bound parts only). */
function selectedParts(): Map<PartName, string[]> {
	const requested = [...process.argv.slice(2).filter((arg) => !arg.startsWith('-')), ...(process.env.BENCH_PARTS ?? '').split(/[\s,]+/)]
		.map((name) => name.trim().toLowerCase())
		.filter(Boolean);
	const chosen = new Map<PartName, string[]>();
	const unknown: string[] = [];
	for (const request of requested) {
		const [part, variant] = request.split(':') as [PartName, string | undefined];
		if (!PART_NAMES.includes(part) || (variant && (!hasVariants(part) || !VARIANTS[part].includes(variant)))) {
			unknown.push(request);
			continue;
		}
		const all = hasVariants(part) ? VARIANTS[part] : [];
		const before = chosen.get(part) ?? [];
		chosen.set(part, variant ? [...new Set([...before, variant])] : all);
	}
	if (unknown.length) {
		const names = PART_NAMES.map((part) => (hasVariants(part) ? `${part} (${VARIANTS[part].map((v) => `${part}:${v}`).join(', ')})` : part));
		process.stderr.write(`Unknown part(s): ${unknown.join(', ')}. Parts: ${names.join('; ')}\n`);
		process.exit(2);
	}
	if (!chosen.size) for (const part of PART_NAMES) chosen.set(part, hasVariants(part) ? VARIANTS[part] : []);
	return new Map(PART_NAMES.filter((part) => chosen.has(part)).map((part) => [part, chosen.get(part) as string[]]));
}

function commandLine(): string {
	const args = process.argv.slice(2).join(' ');
	const base = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args ? ` -- ${args}` : ''}` : `node .build/scripts/bench.js${args ? ` ${args}` : ''}`;
	const env = [
		FULL ? 'BENCH_FULL=1' : '',
		process.env.BENCH_PARTS ? `BENCH_PARTS="${process.env.BENCH_PARTS}"` : '',
		process.env.BENCH_IMAGE_BYTES ? `BENCH_IMAGE_BYTES=${process.env.BENCH_IMAGE_BYTES}` : '',
		process.env.BENCH_GENERATION ? `BENCH_GENERATION=${process.env.BENCH_GENERATION}` : '',
	]
		.filter(Boolean)
		.join(' ');
	return env ? `${env} ${base}` : base;
}

/**
 * Lets the rate-bound variants start measuring together, once every one has loaded and warmed
 * up: their start-up (seconds of CPU each) then never lands inside another's figures.
 */
class StartLine {
	private readonly waiting: ChildProcess[] = [];

	private expected = 0;

	private released = false;

	private release!: () => void;

	/** Resolves when the variants have been let go (at once when there are none). */
	readonly started = new Promise<void>((resolve) => (this.release = resolve));

	join(child: ChildProcess): void {
		this.expected++;
		child.on('message', (message: WorkerMessage) => {
			if (message.type !== 'ready') return;
			if (this.released) return void child.send({ type: 'go' } satisfies OrchestratorMessage);
			this.waiting.push(child);
			this.releaseIfAll();
		});
		// A variant that dies before it is ready must not hold the others back.
		child.once('exit', () => {
			if (!this.waiting.includes(child)) this.expected--;
			this.releaseIfAll();
		});
	}

	private releaseIfAll(): void {
		if (this.released || this.waiting.length < this.expected) return;
		this.released = true;
		for (const child of this.waiting) if (child.connected) child.send({ type: 'go' } satisfies OrchestratorMessage);
		this.release();
	}
}

/** Runs one part in its own process; resolves with its envelope (an error envelope if it crashed or overran). */
function runPart(part: PartName, env: NodeJS.ProcessEnv = {}, variant?: string, startLine?: StartLine): Promise<PartEnvelope> {
	const started = Date.now();
	const failed = (error: string): PartEnvelope => ({ part, measuredAt: new Date(started).toISOString(), durationMs: Date.now() - started, error });
	return new Promise((resolve) => {
		const child = fork(path.join(__dirname, 'bench', 'worker.js'), variant ? [part, variant] : [part], {
			stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
			execArgv: NEEDS_GC.includes(part) ? ['--expose-gc'] : [],
			env: { ...process.env, ...env },
		});
		startLine?.join(child);
		let envelope: PartEnvelope | undefined;
		const timer = setTimeout(() => {
			envelope ??= failed(`stopped after ${duration(PART_LIMIT_MS[part])}, the bench's limit for this part`);
			child.kill('SIGKILL');
		}, PART_LIMIT_MS[part]);
		child.on('message', (message: WorkerMessage) => {
			if (message.type === 'result') envelope ??= message.envelope;
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			resolve(envelope ?? failed(`the part's process exited (code ${code}, signal ${signal}) without figures`));
		});
	});
}

/** The memory part once per binary-data mode (n8n reads the mode once per process), as one envelope. */
async function runMemory(): Promise<PartEnvelope> {
	const envelopes: PartEnvelope[] = [];
	for (const mode of BINARY_MODES) envelopes.push(await runPart('memory', { N8N_DEFAULT_BINARY_DATA_MODE: mode }));
	const failed = envelopes.find((envelope) => envelope.error);
	return {
		part: 'memory',
		measuredAt: envelopes[0].measuredAt,
		durationMs: envelopes.reduce((sum, envelope) => sum + envelope.durationMs, 0),
		...(failed
			? { error: failed.error }
			: { result: { rows: envelopes.flatMap((envelope) => (envelope as PartEnvelope<'memory'>).result?.rows ?? []) } }),
	};
}

type Rows = { rows: Array<{ variant?: string; jobMs?: number; generation?: string }> } & Partial<BuildStamp>;

/** Which variant a row belongs to, so a partial run replaces exactly the rows it measured again. */
const rowKey = (part: RateBoundPart, row: { variant?: string; jobMs?: number }) => (part === 'lag' ? String(row.jobMs) : String(row.variant));

/** The envelopes of one part's variants as one: their rows together, their errors together. */
function joinVariants(part: PartName, envelopes: PartEnvelope[]): PartEnvelope {
	const results = envelopes.map((envelope) => envelope.result as Rows | undefined).filter((result): result is Rows => !!result);
	const errors = envelopes.filter((envelope) => envelope.error).map((envelope) => envelope.error);
	return {
		part,
		measuredAt: envelopes[0].measuredAt,
		durationMs: Math.max(...envelopes.map((envelope) => envelope.durationMs)),
		...(results.length ? { result: { ...results[0], rows: results.flatMap((result) => result.rows) } as never } : {}),
		...(errors.length ? { error: errors.join('\n\n') } : {}),
	};
}

/**
 * Variants measured in seconds whose figures a busy CPU would stretch (20 executions answering
 * within 5 s): they go first, on their own, before the rest start side by side.
 */
const isQuick = ({ part, variant }: { part: RateBoundPart; variant: string }) => part === 'burst' && BURST_VARIANTS[variant]?.perMinute >= 60;

/**
 * Every chosen variant of the rate-bound parts in its own fresh process: the quick ones together
 * first, then all the others side by side. Resolves `othersStarted` once the last wave measures.
 */
async function runRateBound(chosen: Map<PartName, string[]>, othersStarted: () => void): Promise<PartEnvelope[]> {
	const all = [...chosen.entries()].flatMap(([part, variants]) => (waitsSideBySide(part) ? variants.map((variant) => ({ part, variant })) : []));
	const waves = [all.filter((entry) => isRateBound(entry.part) && isQuick(entry as { part: RateBoundPart; variant: string })), all.filter((entry) => !isRateBound(entry.part) || !isQuick(entry as { part: RateBoundPart; variant: string }))].filter((wave) => wave.length);
	const envelopes = new Map<PartName, PartEnvelope[]>();
	for (const [index, wave] of waves.entries()) {
		const startLine = new StartLine();
		const running = Promise.all(wave.map(({ part, variant }) => runPart(part, {}, variant, startLine).then((envelope) => ({ part, envelope }))));
		if (index === waves.length - 1) void startLine.started.then(othersStarted);
		for (const { part, envelope } of await running) envelopes.set(part, [...(envelopes.get(part) ?? []), envelope]);
	}
	if (!waves.length) othersStarted();
	return [...envelopes.entries()].map(([part, list]) => joinVariants(part, list));
}

/** A partial run's rows over the earlier figures of the same build kind: rows of variants not run again stay. */
function mergeRows(part: RateBoundPart, earlier: PartEnvelope | undefined, now: PartEnvelope): PartEnvelope {
	const before = earlier?.result as Rows | undefined;
	const after = now.result as Rows | undefined;
	// A run whose every variant crashed keeps the earlier figures (the console and exit code say it failed).
	if (!after && earlier?.result) return earlier;
	if (!before || !after || (before.pacing ?? 'execution') !== after.pacing) return now;
	const measured = new Set(after.rows.map((row) => rowKey(part, row)));
	const kept = before.rows.filter((row) => !measured.has(rowKey(part, row)));
	// Rows kept from an earlier build say so in the stamp.
	const commit = kept.length && before.commit !== after.commit ? `${after.commit}; variants not run again: ${before.commit}` : after.commit;
	return { ...now, result: { ...after, commit, rows: [...kept, ...after.rows] } as never };
}

/**
 * Issue 13's parts: a run replaces the rows of the variants it measured, of its own scheduler
 * generation only; the other generation's rows (today's beside the new ones) and variants not run stay.
 */
function mergeGenerationRows(earlier: PartEnvelope | undefined, now: PartEnvelope): PartEnvelope {
	const before = (earlier?.result as Rows | undefined)?.rows ?? [];
	const after = (now.result as Rows | undefined)?.rows;
	if (!after) return earlier?.result ? { ...earlier, error: now.error } : now;
	const key = (row: { variant?: string; generation?: string }) => `${row.variant}|${row.generation}`;
	const measured = new Set(after.map(key));
	return { ...now, result: { rows: [...before.filter((row) => !measured.has(key(row))), ...after] } as never };
}

/** Every chosen variant of a part with variants, one after another, each in its own fresh process. */
async function runVariantsInTurn(part: VariantPart, variants: string[]): Promise<PartEnvelope> {
	const envelopes: PartEnvelope[] = [];
	// A start line of one: the variant's process says it is ready and is let go at once.
	for (const variant of variants) envelopes.push(await runPart(part, {}, variant, new StartLine()));
	return joinVariants(part, envelopes);
}

async function main(): Promise<void> {
	const chosen = selectedParts();
	const parts = [...chosen.keys()];
	const started = Date.now();
	const machine = machineInfo();
	const described = parts.map((part) => (hasVariants(part) && chosen.get(part)?.length !== VARIANTS[part].length ? `${part} (${chosen.get(part)?.join(', ')})` : part));
	process.stderr.write(`[bench] parts: ${described.join(', ')}${FULL ? ' (BENCH_FULL)' : ''}; ${machine.cpuModel}, nproc ${machine.nproc}, Node ${machine.node}\n`);

	// Two lanes: the variants of the rate-bound parts (long, idle), the CPU-bound parts one after another.
	const results: PartEnvelope[] = [];
	let othersStarted!: () => void;
	const rateBoundStarted = new Promise<void>((resolve) => (othersStarted = resolve));
	const background = runRateBound(chosen, othersStarted).then((envelopes) => results.push(...envelopes));
	// The CPU-bound parts wait out the rate-bound variants' start-up, which would skew their figures.
	await rateBoundStarted;
	for (const part of parts.filter((name) => !waitsSideBySide(name))) {
		if (part === 'memory') results.push(await runMemory());
		else if (hasVariants(part)) results.push(await runVariantsInTurn(part, chosen.get(part) ?? VARIANTS[part]));
		else results.push(await runPart(part));
	}
	await background;

	const previous = readPreviousData(existsSync(DOC) ? readFileSync(DOC, 'utf8') : undefined);
	const data: BenchData = {
		run: { date: new Date(started).toISOString(), command: commandLine(), parts, totalMs: Date.now() - started, machine: { ...machine, loadEnd: os.loadavg()[0] } },
		parts: { ...(previous?.parts ?? {}) },
		today: { ...(previous?.today ?? {}) },
	};
	for (const envelope of results) {
		const part = envelope.part;
		if (isScalePart(part)) {
			(data.parts as Record<string, PartEnvelope>)[part] = mergeGenerationRows(previous?.parts?.[part], envelope);
			continue;
		}
		if (!isRateBound(part)) {
			(data.parts as Record<string, PartEnvelope>)[part] = envelope;
			continue;
		}
		(data.parts as Record<string, PartEnvelope>)[part] = mergeRows(part, previous?.parts?.[part], envelope);
		// A build that paces per execution measured today's figures: they stay beside the new ones.
		if ((envelope.result as Rows | undefined)?.pacing === 'execution') {
			(data.today as Record<string, PartEnvelope>)[part] = mergeRows(part, previous?.today?.[part], envelope);
		}
	}

	process.stdout.write(`\n${consoleReport(data, parts)}\n\n`);
	mkdirSync(path.dirname(DOC), { recursive: true });
	writeFileSync(DOC, markdownDocument(data, PART_NAMES));
	process.stdout.write(`Total runtime ${duration(data.run.totalMs)}. Figures written to ${path.relative(ROOT, DOC)}.\n`);
	// A part that crashed is a broken bench (not a missed target): say so in the exit code.
	process.exitCode = results.some((envelope) => envelope.error) ? 1 : 0;
}

main().catch((error: unknown) => {
	process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
	process.exit(1);
});
