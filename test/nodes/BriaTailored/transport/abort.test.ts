import { getEventListeners } from 'node:events';

import { organizationBudget, Party, resetBudgets } from '../../../../nodes/BriaTailored/scheduler/Pacer';
import { sleep as pause } from '../../../../nodes/BriaTailored/scheduler/clock';
import { CancelledError, onAbort } from '../../../../nodes/BriaTailored/transport';

/*
 * Many items wait on the execution's cancel signal at once (pauses, pacer turns). They share one
 * listener: past 10, Node prints a "possible EventTarget memory leak" warning into n8n's log.
 */
describe('waiting on the cancel signal', () => {
	afterEach(() => resetBudgets());

	test('fifty pauses share one abort listener, and a stop ends every one of them', async () => {
		const controller = new AbortController();
		const waits = Array.from({ length: 50 }, async () => await pause(60_000, controller.signal));
		expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
		controller.abort();
		const outcomes = await Promise.allSettled(waits);
		expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof CancelledError)).toBe(true);
	});

	test('fifty items waiting for a pacer turn share one abort listener, and a stop releases them all', async () => {
		const controller = new AbortController();
		const lane = organizationBudget('http://127.0.0.1:1', 'token', 1).lane('imageSubmit');
		const party = new Party();
		const first = await lane.acquire({ party, signal: controller.signal });
		first?.answered();
		const waits = Array.from({ length: 50 }, async () => await lane.acquire({ party, signal: controller.signal }));
		expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
		controller.abort();
		const outcomes = await Promise.allSettled(waits);
		expect(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof CancelledError)).toBe(true);
	});

	test('once its last waiter is done, a signal keeps no listener: a request\'s signal (and the body its promise holds) can be collected', () => {
		// A request's own signal, as the transport makes it: the execution's cancel signal or its time budget.
		const execution = new AbortController();
		const request = AbortSignal.any([execution.signal, AbortSignal.timeout(120_000)]);
		const detachFirst = onAbort(request, () => undefined);
		const detachSecond = onAbort(request, () => undefined);
		expect(getEventListeners(request, 'abort')).toHaveLength(1);
		detachFirst();
		expect(getEventListeners(request, 'abort')).toHaveLength(1);
		detachSecond();
		expect(getEventListeners(request, 'abort')).toHaveLength(0);
		// A new waiter later gets a listener again, and a stop still reaches it.
		let stopped = false;
		onAbort(request, () => (stopped = true));
		execution.abort();
		expect(stopped).toBe(true);
	});
});
