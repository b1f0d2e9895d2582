/** The parent's side of a simulator child process (simProcess.ts): start, plan jobs, read the log, stop. */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

import type { BriaCredential } from '../../test/harness/runNode';
import type { JobPlan, SimOptions } from '../../test/simulator/BriaSimulator';
import type { SimLog, SimMessage, SimRequest } from './types';

const START_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** Longer than any part's own limit, so the child never dies mid-measurement but never lingers. */
const DEFAULT_LIFETIME_MS = 20 * 60_000;

type Pending = { resolve: (data: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

export class SimProcess {
	private nextId = 1;

	private readonly pending = new Map<number, Pending>();

	private constructor(
		private readonly child: ChildProcess,
		readonly baseUrl: string,
		readonly imageBaseUrl: string,
		readonly token: string,
	) {
		child.on('message', (message: SimMessage) => {
			if (message.type !== 'reply') return;
			const waiting = this.pending.get(message.id);
			if (!waiting) return;
			this.pending.delete(message.id);
			clearTimeout(waiting.timer);
			if (message.ok) waiting.resolve(message.data);
			else waiting.reject(new Error(message.error));
		});
		child.once('exit', () => {
			for (const waiting of this.pending.values()) {
				clearTimeout(waiting.timer);
				waiting.reject(new Error('the simulator process exited'));
			}
			this.pending.clear();
		});
	}

	static async start(options: SimOptions, lifetimeMs = DEFAULT_LIFETIME_MS): Promise<SimProcess> {
		// execArgv [] : the simulator needs none of the measuring process's flags (e.g. --expose-gc).
		const child = fork(path.join(__dirname, 'simProcess.js'), [JSON.stringify({ options, lifetimeMs })], {
			stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
			execArgv: [],
		});
		return await new Promise<SimProcess>((resolve, reject) => {
			const timer = setTimeout(() => {
				child.kill('SIGKILL');
				reject(new Error('the simulator process did not start in time'));
			}, START_TIMEOUT_MS);
			child.once('exit', (code) => {
				clearTimeout(timer);
				reject(new Error(`the simulator process exited early (code ${code})`));
			});
			child.once('message', (message: SimMessage) => {
				clearTimeout(timer);
				if (message.type !== 'ready') return reject(new Error('unexpected first message from the simulator'));
				resolve(new SimProcess(child, message.baseUrl, message.imageBaseUrl, message.token));
			});
		});
	}

	get credentials(): BriaCredential {
		return { apiToken: this.token, baseUrl: this.baseUrl };
	}

	async plan(plans: JobPlan[]): Promise<void> {
		await this.request({ type: 'plan', plans });
	}

	async log(): Promise<SimLog> {
		return (await this.request({ type: 'log' })) as SimLog;
	}

	/** Asks the child to stop; kills it (by its own pid) if it has not exited within a few seconds. */
	async stop(): Promise<void> {
		if (this.child.exitCode !== null || this.child.signalCode !== null) return;
		const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
		await this.request({ type: 'stop' }).catch(() => undefined);
		const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
		await exited;
		clearTimeout(timer);
	}

	private request(body: { type: 'plan'; plans: JobPlan[] } | { type: 'log' } | { type: 'stop' }): Promise<unknown> {
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(id);
				reject(new Error(`the simulator did not answer "${body.type}" in time`));
			}, REQUEST_TIMEOUT_MS);
			this.pending.set(id, { resolve, reject, timer });
			this.child.send({ ...body, id } as SimRequest);
		});
	}
}
