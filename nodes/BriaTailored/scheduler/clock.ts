import { sleep as n8nSleep, sleepWithAbort } from 'n8n-workflow';

import { CancelledError, onAbort } from '../transport';

/*
 * The one clock of the scheduler: every window, deadline and wait reads it.
 * - Monotonic (`performance.now()`): a wall-clock step (NTP, a resumed VM) neither blocks a lane
 *   for the size of the step nor ends a wait early.
 * - Every wait is cancellable (`sleepWithAbort`): a superseded or cancelled wait clears its timer
 *   at once, so no timer outlives its use.
 * Tests and the benchmark may swap it (`useClock`).
 */
/** A timer may fire a millisecond or two off the time asked: what counts as on time. */
export const TIMER_SLACK_MS = 2;

export interface Clock {
	/** Milliseconds on a clock that never steps back. */
	now(): number;
	/** Waits `ms`; rejects with CancelledError as soon as `signal` fires. */
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: Clock = { now: () => performance.now(), sleep: realSleep };
let clock: Clock = realClock;

/** Swaps the clock (no argument: the real one back). */
export function useClock(replacement?: Clock): void {
	clock = replacement ?? realClock;
}

export function now(): number {
	return clock.now();
}

/** Waits `ms` (nothing for 0 or less); rejects with CancelledError when `signal` fires. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	if (signal?.aborted) throw new CancelledError();
	if (ms > 0) await clock.sleep(ms, signal);
}

/*
 * n8n-workflow's cancellable wait, as the n8n that loads the node has it: 1.x and the 2.1x line export
 * `sleepWithAbort(ms, signal)`; from 2.4x it is gone and `sleep(ms, signal)` (from @n8n/utils) takes
 * the signal itself. A community node gets the n8n-workflow of the n8n it runs in: read at call time.
 */
async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
	if (typeof sleepWithAbort === 'function') return await sleepWithAbort(ms, signal);
	return await (n8nSleep as (ms: number, signal?: AbortSignal) => Promise<void>)(ms, signal);
}

async function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
	// A private controller per wait: n8n's sleepWithAbort leaves its listener on the signal it is
	// given, so the execution's long-lived cancel signal is followed through one shared listener.
	const timer = new AbortController();
	const detach = signal ? onAbort(signal, () => timer.abort()) : () => undefined;
	await new Promise<void>((resolve, reject) => {
		// Raced against the signal too: should an n8n's wait ignore it, a cancel still ends this one at once.
		const stop = onAbort(timer.signal, () => reject(new CancelledError()));
		// Whole milliseconds, at least 1: a fraction (from an expression) never makes a 0 ms timer loop.
		abortableSleep(Math.max(1, Math.ceil(ms)), timer.signal).then(
			() => {
				stop();
				resolve();
			},
			() => {
				stop();
				reject(new CancelledError());
			},
		);
	}).finally(detach);
}
