/**
 * `npm run bench`: performance figures of the Bria Tailored node against the project's simulator
 * on 127.0.0.1, printed as tables with PASS/MISS against the targets of issue 5 and written to
 * docs/BENCHMARKS.md. A benchmark, not a test: a MISS never fails the run.
 *
 * Parts (default all; choose with arguments or BENCH_PARTS): concurrency, lag, ratelimit, cpu,
 * memory. BENCH_FULL=1 also runs 50 items sequentially for real. Each part runs in its own
 * process (bench/worker.ts) so CPU and memory figures are never shared; the rate-limit part
 * (minutes of mostly waiting) runs alongside the others to keep the whole run near 5 minutes.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BINARY_MODES } from './bench/memory';
import { consoleReport, duration, machineInfo, markdownDocument, readPreviousData } from './bench/report';
import type { BenchData } from './bench/report';
import { PART_NAMES } from './bench/types';
import type { PartEnvelope, PartName, WorkerMessage } from './bench/types';

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = path.join(ROOT, 'docs', 'BENCHMARKS.md');
const FULL = process.env.BENCH_FULL === '1';

/** Outer bound of each part's process; the parts bound their own runs more tightly. */
const PART_LIMIT_MS: Record<PartName, number> = {
	concurrency: (FULL ? 14 : 7) * 60_000,
	lag: 4 * 60_000,
	ratelimit: 11 * 60_000,
	cpu: 8 * 60_000,
	memory: 4 * 60_000,
};

/** Parts whose figures need a clean heap: they may call gc(). */
const NEEDS_GC: PartName[] = ['cpu', 'memory'];

function selectedParts(): PartName[] {
	const requested = [...process.argv.slice(2).filter((arg) => !arg.startsWith('-')), ...(process.env.BENCH_PARTS ?? '').split(/[\s,]+/)]
		.map((name) => name.trim().toLowerCase())
		.filter(Boolean);
	const unknown = requested.filter((name) => !PART_NAMES.includes(name as PartName));
	if (unknown.length) {
		process.stderr.write(`Unknown part(s): ${unknown.join(', ')}. Parts: ${PART_NAMES.join(', ')}\n`);
		process.exit(2);
	}
	return requested.length ? PART_NAMES.filter((name) => requested.includes(name)) : [...PART_NAMES];
}

function commandLine(): string {
	const args = process.argv.slice(2).join(' ');
	const base = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args ? ` -- ${args}` : ''}` : `node .build/scripts/bench.js${args ? ` ${args}` : ''}`;
	const env = [FULL ? 'BENCH_FULL=1' : '', process.env.BENCH_PARTS ? `BENCH_PARTS="${process.env.BENCH_PARTS}"` : '', process.env.BENCH_IMAGE_BYTES ? `BENCH_IMAGE_BYTES=${process.env.BENCH_IMAGE_BYTES}` : '']
		.filter(Boolean)
		.join(' ');
	return env ? `${env} ${base}` : base;
}

/** Runs one part in its own process; resolves with its envelope (an error envelope if it crashed or overran). */
function runPart(part: PartName, env: NodeJS.ProcessEnv = {}): Promise<PartEnvelope> {
	const started = Date.now();
	const failed = (error: string): PartEnvelope => ({ part, measuredAt: new Date(started).toISOString(), durationMs: Date.now() - started, error });
	return new Promise((resolve) => {
		const child = fork(path.join(__dirname, 'bench', 'worker.js'), [part], {
			stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
			execArgv: NEEDS_GC.includes(part) ? ['--expose-gc'] : [],
			env: { ...process.env, ...env },
		});
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

async function main(): Promise<void> {
	const parts = selectedParts();
	const started = Date.now();
	const machine = machineInfo();
	process.stderr.write(`[bench] parts: ${parts.join(', ')}${FULL ? ' (BENCH_FULL)' : ''}; ${machine.cpuModel}, nproc ${machine.nproc}, Node ${machine.node}\n`);

	// Two lanes: rate limit alone (long, idle), everything else one after another.
	const results: PartEnvelope[] = [];
	const background = parts.includes('ratelimit') ? runPart('ratelimit').then((envelope) => results.push(envelope)) : Promise.resolve();
	for (const part of parts.filter((name) => name !== 'ratelimit')) results.push(await (part === 'memory' ? runMemory() : runPart(part)));
	await background;

	const previous = readPreviousData(existsSync(DOC) ? readFileSync(DOC, 'utf8') : undefined);
	const data: BenchData = {
		run: { date: new Date(started).toISOString(), command: commandLine(), parts, totalMs: Date.now() - started, machine: { ...machine, loadEnd: os.loadavg()[0] } },
		parts: { ...(previous?.parts ?? {}) },
	};
	for (const envelope of results) (data.parts as Record<string, PartEnvelope>)[envelope.part] = envelope;

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
