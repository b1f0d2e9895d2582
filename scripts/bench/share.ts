/**
 * Sharing a plan without seeing each other: n8n processes (as queue-mode workers are), each with
 * its own organization budget, each stating the organization's FULL plan (10/min) on its
 * credential, against ONE simulator allowing 10 requests per endpoint per minute. A burst of
 * single-item executions on every process at once, 5 s jobs varying ± 10 %, downloads off.
 * - 2proc: two processes, 10 executions each;
 * - alone: one process, all 20 executions: it should reach the full plan.
 * The 20 jobs go through one organization's 10/min either way, so both have the same physical limit.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { endLoad, generationStamp, progress, readyThenWait, requestCounts, withPlan } from './common';
import { wallLimitMs } from './limits';
import { SimProcess } from './simClient';
import type { PeerArgs, PeerReport } from './sharePeer';
import type { ShareResult, ShareRow, WorkerMessage } from './types';

const PER_MINUTE = 10;
const EXECUTIONS = 20;
const JOB_MS = 5_000;
const JITTER_MS = JOB_MS / 10;
/** Each execution is stopped after this long (it then counts as failed): the limit is ≈ 65 s. */
const CAP_MS = 6 * 60_000;
const READY_TIMEOUT_MS = 60_000;

export const SHARE_VARIANTS: Record<string, { processes: number }> = {
	'2proc': { processes: 2 },
	alone: { processes: 1 },
};

interface Peer {
	child: ChildProcess;
	exited: Promise<void>;
	ready: Promise<void>;
	report: Promise<PeerReport>;
}

function startPeer(args: PeerArgs): Peer {
	const child = fork(path.join(__dirname, 'sharePeer.js'), [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
	const gone = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	const exited = gone.then((code): never => {
		throw new Error(`share: process ${args.label} exited (code ${code}) without figures`);
	});
	const ready = Promise.race([
		exited,
		new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`share: process ${args.label} was not ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
			child.on('message', (message: WorkerMessage) => {
				if (message?.type !== 'ready') return;
				clearTimeout(timer);
				resolve();
			});
		}),
	]);
	const report = Promise.race([
		exited,
		new Promise<PeerReport>((resolve) =>
			child.on('message', (message: PeerReport | WorkerMessage) => {
				if ((message as PeerReport)?.type === 'peer-result') resolve(message as PeerReport);
			}),
		),
	]);
	// Whichever is not awaited must not surface as an unhandled rejection.
	ready.catch(() => undefined);
	report.catch(() => undefined);
	return { child, exited: gone.then(() => undefined), ready, report };
}

export async function measureShare(variant: string): Promise<ShareResult> {
	const chosen = SHARE_VARIANTS[variant];
	if (!chosen) throw new Error(`share: unknown variant "${variant}" (${Object.keys(SHARE_VARIANTS).join(', ')})`);
	const { processes } = chosen;
	const perProcess = EXECUTIONS / processes;
	let stamp = generationStamp();
	progress(`share ${variant}: ${processes} process(es) × ${perProcess} executions, each stating the full ${PER_MINUTE}/min plan, one simulator at ${PER_MINUTE}/min (${stamp.generation})`);
	const sim = await SimProcess.start({ jobMs: JOB_MS, jitterMs: JITTER_MS, rateLimitPerMinute: PER_MINUTE, retryAfterHeader: true });
	const folders = Array.from({ length: processes }, () => mkdtempSync(path.join(tmpdir(), 'bria-bench-peer-')));
	const peers = folders.map((userFolder, index) =>
		startPeer({ label: String.fromCharCode(65 + index), credentials: sim.credentials, executions: perProcess, perMinute: PER_MINUTE, capMs: CAP_MS, userFolder }),
	);
	try {
		await Promise.all(peers.map((peer) => peer.ready));
		// This process only conducts: it tells the bench it is ready, and lets the peers go together.
		await readyThenWait();
		stamp = generationStamp();
		const started = Date.now();
		for (const peer of peers) peer.child.send({ type: 'go' });
		const reports = await Promise.all(peers.map((peer) => peer.report));
		const wallMs = Date.now() - started;
		const log = await sim.log();
		const jobs = log.jobs.filter((job) => job.prompt?.startsWith('bench share'));
		const durations = [...jobs.map((job) => job.durationMs), ...Array(Math.max(0, EXECUTIONS - jobs.length)).fill(JOB_MS)];
		const row: ShareRow = {
			...endLoad(stamp),
			variant,
			processes,
			executionsPerProcess: perProcess,
			jobMs: JOB_MS,
			jitterMs: JITTER_MS,
			perMinute: PER_MINUTE,
			plan: withPlan(sim.credentials, PER_MINUTE).place,
			capMs: CAP_MS,
			stoppedAtCap: reports.some((report) => report.cancelled),
			failed: reports.reduce((sum, report) => sum + report.failed, 0),
			wallMs,
			limitMs: wallLimitMs(durations, PER_MINUTE),
			perProcess: reports.map((report) => ({ lastAnswerMs: report.answersMs[report.answersMs.length - 1] ?? NaN, failed: report.failed })),
			...requestCounts(log),
			errors: [...new Set(reports.flatMap((report) => report.errors))].slice(0, 3),
		};
		progress(`share ${variant}: done in ${(wallMs / 1000).toFixed(0)} s (${row.throttled} × 429 of ${row.requests} requests, ${row.failed} failed)`);
		return { rows: [row] };
	} finally {
		// Each peer exits once it has reported; one that lingers is stopped (by its own pid).
		const lingering = setTimeout(() => {
			for (const peer of peers) if (peer.child.exitCode === null && peer.child.signalCode === null) peer.child.kill('SIGKILL');
		}, 5_000);
		await Promise.all(peers.map((peer) => peer.exited));
		clearTimeout(lingering);
		for (const folder of folders) rmSync(folder, { recursive: true, force: true });
		await sim.stop();
	}
}
