/**
 * Child processes for the real-n8n tooling: every process runs in its own process group, every
 * wait has a limit, and whatever is still running when this process exits is killed with its
 * children (n8n starts a task runner of its own).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
let stopping = false;

/** Whether Ctrl-C/SIGTERM was received (children are being stopped on purpose). */
export function stopRequested(): boolean {
	return stopping;
}

function installExitHook(): void {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	// 'exit' handlers must be synchronous: a SIGKILL to each group is all that is possible here.
	process.on('exit', () => {
		for (const child of live) killGroup(child, 'SIGKILL', true);
	});
}

/**
 * For command-line tools: on Ctrl-C or SIGTERM stop every child group and exit. (Children run in
 * their own process groups, so the terminal's Ctrl-C does not reach them by itself.)
 */
export function stopChildrenOnSignals(onSignal?: () => Promise<void>): void {
	const handle = (signal: NodeJS.Signals) => {
		if (stopping) return;
		stopping = true;
		process.stderr.write(`\n${signal}: stopping…\n`);
		const hardStop = setTimeout(() => process.exit(130), 30_000);
		// Children first (n8n holds files in the folders the cleanup removes), then the caller's cleanup.
		void Promise.all([...live].map((child) => stopGroup(child, 10_000)))
			.then(async () => await onSignal?.())
			.catch((error: unknown) => process.stderr.write(`cleanup failed: ${String(error)}\n`))
			.finally(() => {
				clearTimeout(hardStop);
				process.exit(signal === 'SIGINT' ? 130 : 143);
			});
	};
	process.once('SIGINT', handle);
	process.once('SIGTERM', handle);
}

/**
 * Signals the child's whole process group (it was spawned detached, so it leads one). With
 * `evenIfExited`, the group is signalled after its leader has gone too: n8n's task runner may
 * outlive n8n for a moment.
 */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals, evenIfExited = false): void {
	const leaderGone = child.exitCode !== null || child.signalCode !== null;
	if (child.pid === undefined || (leaderGone && !evenIfExited)) return;
	try {
		process.kill(-child.pid, signal);
	} catch {
		// No such group (all gone) or no permission: the child itself may still need the signal.
		if (!leaderGone) child.kill(signal);
	}
}

/** Resolves once the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM to the group, then SIGKILL after `graceMs`; resolves when the child is gone. */
export async function stopGroup(child: ChildProcess, graceMs = 10_000): Promise<void> {
	killGroup(child, 'SIGTERM');
	const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
	try {
		await exited(child);
	} finally {
		clearTimeout(timer);
		// n8n's task runner may outlive its parent for a moment: make sure the group is empty.
		killGroup(child, 'SIGKILL', true);
		live.delete(child);
	}
}

export interface SpawnOptions {
	cwd?: string;
	env?: NodeJS.ProcessEnv;
	/** Called with each chunk of output as it arrives (e.g. to stream progress). */
	onStdout?: (chunk: string) => void;
	onStderr?: (chunk: string) => void;
}

/** Starts a process in a new group and registers it for cleanup at exit. */
export function spawnManaged(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
	installExitHook();
	const child = spawn(command, args, {
		cwd: options.cwd,
		env: options.env ?? process.env,
		detached: true,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	live.add(child);
	child.once('exit', () => live.delete(child));
	child.stdout?.setEncoding('utf8');
	child.stderr?.setEncoding('utf8');
	if (options.onStdout) child.stdout?.on('data', options.onStdout);
	if (options.onStderr) child.stderr?.on('data', options.onStderr);
	return child;
}

export interface RunResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	durationMs: number;
}

export class CommandError extends Error {
	constructor(
		message: string,
		readonly result: RunResult,
	) {
		super(message);
	}
}

export interface RunOptions extends SpawnOptions {
	timeoutMs: number;
	/** Reject when the exit code is not 0 (default true). */
	check?: boolean;
}

/** Runs a command to completion within `timeoutMs`, capturing its output. */
export async function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
	const started = Date.now();
	let stdout = '';
	let stderr = '';
	const child = spawnManaged(command, args, {
		...options,
		onStdout: (chunk) => {
			stdout += chunk;
			options.onStdout?.(chunk);
		},
		onStderr: (chunk) => {
			stderr += chunk;
			options.onStderr?.(chunk);
		},
	});
	let timedOut = false;
	const timer = setTimeout(() => {
		timedOut = true;
		void stopGroup(child, 3_000);
	}, options.timeoutMs);
	const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
		child.once('error', (error) => resolve({ code: null, signal: null, error }));
		// 'close' (not 'exit'): all output has been read by then.
		child.once('close', (code, signal) => resolve({ code, signal }));
	});
	clearTimeout(timer);
	killGroup(child, 'SIGKILL', true); // leftovers of the group, if any
	const result: RunResult = { ...outcome, stdout, stderr, durationMs: Date.now() - started };
	const shown = `${command} ${args.join(' ')}`;
	if (outcome.error) throw new CommandError(`${shown} could not start: ${outcome.error.message}`, result);
	if (timedOut)
		throw new CommandError(`${shown} did not finish within ${Math.round(options.timeoutMs / 1000)} s\n${tail(stdout + stderr)}`, result);
	if (options.check !== false && outcome.code !== 0)
		throw new CommandError(`${shown} failed (exit ${outcome.code ?? outcome.signal})\n${tail(stdout + stderr)}`, result);
	return result;
}

/** The last lines of a long output, for error messages. */
export function tail(text: string, lines = 40): string {
	return text.split('\n').slice(-lines).join('\n');
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
		});
	});
}

/** Whether something already listens on 127.0.0.1:`port`. */
export function portInUse(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect({ host: '127.0.0.1', port });
		socket.setTimeout(1_000);
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('timeout', () => {
			socket.destroy();
			resolve(false);
		});
		socket.once('error', () => resolve(false));
	});
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value, failing after `timeoutMs` with `what` in the message. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 250): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
		await sleep(intervalMs);
	}
}

/** The repository root (where this package's package.json is), from source or from .build. */
export function repoRoot(): string {
	let dir = __dirname;
	for (;;) {
		const manifest = path.join(dir, 'package.json');
		if (existsSync(manifest)) {
			try {
				if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'n8n-nodes-bria') return dir;
			} catch {
				/* not ours: keep walking up */
			}
		}
		const parent = path.dirname(dir);
		if (parent === dir) throw new Error(`cannot find the n8n-nodes-bria repository above ${__dirname}`);
		dir = parent;
	}
}
