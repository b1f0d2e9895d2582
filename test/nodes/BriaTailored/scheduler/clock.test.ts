import type * as Workflow from 'n8n-workflow';

/*
 * The scheduler's one real clock waits through n8n-workflow, whichever n8n loads the node: n8n
 * 1.x and the 2.1x line export `sleepWithAbort(ms, signal)`; n8n 2.41's n8n-workflow exports only
 * `sleep(ms, signal)` (from @n8n/utils) and no `sleepWithAbort`. A community node gets the n8n-workflow
 * of the n8n it runs in, so every shape must give a wait that ends on time and on a signal.
 */

type ClockModule = typeof import('../../../../nodes/BriaTailored/scheduler/clock');

/** The clock module as it loads against an n8n-workflow with these exports replaced. */
function clockWith(exports: Partial<Record<'sleep' | 'sleepWithAbort', unknown>>): ClockModule {
	let clock: ClockModule | undefined;
	jest.isolateModules(() => {
		jest.doMock('n8n-workflow', () => ({ ...jest.requireActual<typeof Workflow>('n8n-workflow'), ...exports }));
		clock = jest.requireActual<ClockModule>('../../../../nodes/BriaTailored/scheduler/clock');
	});
	jest.dontMock('n8n-workflow');
	return clock!;
}

/** n8n 2.41's `sleep` (@n8n/utils/sleep): a timer, or a timer that the signal clears with its reason. */
async function sleep241(ms: number, abortSignal?: AbortSignal): Promise<void> {
	if (!abortSignal) return await new Promise((resolve) => setTimeout(resolve, ms));
	return await new Promise((resolve, reject) => {
		if (abortSignal.aborted) return reject(abortSignal.reason as Error);
		const onAbort = () => {
			clearTimeout(timeout);
			reject(abortSignal.reason as Error);
		};
		const timeout = setTimeout(() => {
			abortSignal.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		abortSignal.addEventListener('abort', onAbort, { once: true });
	});
}

describe.each([
	['n8n-workflow of the 2.1x line and 1.x (sleepWithAbort)', {}],
	['n8n-workflow of n8n 2.41 (sleep with a signal, no sleepWithAbort)', { sleepWithAbort: undefined, sleep: sleep241 }],
])('the clock on %s', (_name, exports) => {
	test('a wait ends after its time, not at once', async () => {
		const { sleep } = clockWith(exports);
		const started = performance.now();
		await expect(sleep(60)).resolves.toBeUndefined();
		expect(performance.now() - started).toBeGreaterThanOrEqual(55);
	});

	test('a wait with a signal ends after its time too', async () => {
		const { sleep } = clockWith(exports);
		const started = performance.now();
		await sleep(60, new AbortController().signal);
		expect(performance.now() - started).toBeGreaterThanOrEqual(55);
	});

	test('a signal ends a wait at once, as a CancelledError', async () => {
		const { sleep } = clockWith(exports);
		const stop = new AbortController();
		const started = performance.now();
		const waiting = sleep(5_000, stop.signal);
		setTimeout(() => stop.abort(), 20);
		await expect(waiting).rejects.toThrow('The execution was cancelled');
		expect(performance.now() - started).toBeLessThan(1_000);
	});
});
