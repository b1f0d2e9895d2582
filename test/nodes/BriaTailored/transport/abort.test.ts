import { getEventListeners } from 'node:events';

import { organizationBudget, Party, resetBudgets } from '../../../../nodes/BriaTailored/scheduler/Pacer';
import { sleep as pause } from '../../../../nodes/BriaTailored/scheduler/clock';
import { CancelledError } from '../../../../nodes/BriaTailored/transport';

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
});
