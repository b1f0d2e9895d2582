import { CancelledError } from '../../../../nodes/BriaTailored/transport';
import type { Lane } from '../../../../nodes/BriaTailored/scheduler/Pacer';
import { budgetCount, IDLE_MS, organizationBudget, Party, WINDOW_MS } from '../../../../nodes/BriaTailored/scheduler/Pacer';
import { useFakeBudgetClock } from '../../../harness/fakeBudgetClock';

const URL_A = 'https://bria.example';
const TOKEN_A = 'token-a';

/** Asks `count` turns of `party` on `lane`; each request is answered at once. Returns when each went. */
function send(lane: Lane, party: Party, count: number, options: { deadline?: number; signal?: AbortSignal } = {}) {
	return Array.from({ length: count }, async () => {
		const turn = await lane.acquire({ party, ...options });
		if (!turn) return undefined;
		turn.answered();
		return Date.now();
	});
}

describe('organization rate budget', () => {
	useFakeBudgetClock();

	test('with the plan known, a burst up to the plan goes at once and the rest waits for Bria\'s window', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A, 10).lane('imageSubmit');
		const times = send(lane, new Party(), 12);
		await jest.advanceTimersByTimeAsync(2 * WINDOW_MS);
		const sent = (await Promise.all(times)) as number[];
		expect(sent.slice(0, 10)).toEqual(Array(10).fill(0));
		// Never 11 in one window: the next two go once the first have left it (plus a small margin).
		expect(sent.slice(10).every((at) => at >= WINDOW_MS && at <= WINDOW_MS + 1_000)).toBe(true);
	});

	test('each endpoint has its own lane and clock: a full or paused lane does not delay another', async () => {
		const budget = organizationBudget(URL_A, TOKEN_A, 10);
		const party = new Party();
		const submits = send(budget.lane('imageSubmit'), party, 15);
		const turn = await budget.lane('structuredPromptSubmit').acquire({ party });
		turn!.throttled(30_000);
		const status = send(budget.lane('status'), party, 10);
		const models = send(budget.lane('models'), party, 1);
		await jest.advanceTimersByTimeAsync(0);
		expect(await Promise.all(status)).toEqual(Array(10).fill(0));
		expect(await Promise.all(models)).toEqual([0]);
		await jest.advanceTimersByTimeAsync(2 * WINDOW_MS);
		await Promise.all(submits);
	});

	test('turns go round-robin between executions: a one-item execution is not starved by a 200-item one', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A, 10).lane('imageSubmit');
		const batch = new Party(0, 'batch');
		const form = new Party(0, 'form');
		const batchTimes = send(lane, batch, 200);
		await jest.advanceTimersByTimeAsync(1_000);
		const formTime = send(lane, form, 1);
		await jest.advanceTimersByTimeAsync(2 * WINDOW_MS);
		// The batch took the first window; the form's item is the first of the next, not after 190 more.
		expect(await formTime[0]).toBeLessThanOrEqual(WINDOW_MS + 1_000);
		const batchSent = (await Promise.all(batchTimes.slice(0, 20))) as number[];
		expect(batchSent.filter((at) => at < WINDOW_MS)).toHaveLength(10);
		await jest.advanceTimersByTimeAsync(30 * WINDOW_MS);
		await Promise.all(batchTimes);
	});

	test('a cancelled execution releases its waiting turns at once; the others move up', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A, 1).lane('status');
		const first = new Party();
		const cancelled = new Party();
		const other = new Party();
		await Promise.all(send(lane, first, 1));
		const controller = new AbortController();
		const waiting = lane.acquire({ party: cancelled, signal: controller.signal });
		const next = send(lane, other, 1);
		controller.abort();
		await expect(waiting).rejects.toBeInstanceOf(CancelledError);
		expect(lane.busy()).toBe(true);
		await jest.advanceTimersByTimeAsync(WINDOW_MS + 1_000);
		expect(await next[0]).toBeLessThanOrEqual(WINDOW_MS + 1_000);
		expect(lane.busy()).toBe(false);
	});

	test('without a plan: 10 go at once (the slowest plan), then probes, so a burst meets at most one 429', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A).lane('imageSubmit');
		const party = new Party();
		const granted: number[] = [];
		const turns = Array.from({ length: 15 }, async (_, index) => {
			const turn = await lane.acquire({ party });
			granted.push(index);
			return turn!;
		});
		// One with a deadline too: waiting for the probe's answer is no reason to refuse it.
		const withDeadline = lane.acquire({ party, deadline: 120_000 });
		await jest.advanceTimersByTimeAsync(0);
		// Nothing answered yet: the slowest plan's 10 plus one probe are in flight, no more.
		expect(granted).toHaveLength(11);
		const inFlight = await Promise.all(turns.slice(0, 11));
		inFlight.slice(0, 10).forEach((turn) => turn.answered());
		// Bria refuses the probe: the lane learns 10 per minute and waits for Retry-After.
		expect(inFlight[10].throttled(50_000)).toBe(50_000);
		await jest.advanceTimersByTimeAsync(1_000);
		expect(granted).toHaveLength(11);
		expect(lane.limitPerWindow()).toBe(10);
		await jest.advanceTimersByTimeAsync(WINDOW_MS);
		expect(granted).toHaveLength(15);
		(await Promise.all(turns.slice(11))).forEach((turn) => turn.answered());
		await jest.advanceTimersByTimeAsync(WINDOW_MS);
		await expect(withDeadline).resolves.toBeDefined();
	});

	test('recovery: a window without a 429 lifts the learned limit, so one early 429 does not pin a fast plan', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A).lane('status');
		const party = new Party();
		const early = await lane.acquire({ party });
		early!.throttled(1_000);
		expect(lane.limitPerWindow()).toBe(10);
		await jest.advanceTimersByTimeAsync(WINDOW_MS + 1_000);
		// Bria really allows far more: 200 requests go within one minute, found by probing.
		const times = send(lane, party, 200);
		await jest.advanceTimersByTimeAsync(WINDOW_MS);
		const sent = (await Promise.all(times)) as number[];
		expect(Math.max(...sent) - Math.min(...sent)).toBeLessThan(1_000);
		expect(lane.limitPerWindow()).toBeUndefined();
	});

	test('a turn that would come after the deadline is refused at once, without waiting', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A).lane('status');
		const turn = await lane.acquire({ party: new Party() });
		turn!.throttled(30_000);
		await expect(lane.acquire({ party: new Party(), deadline: 10_000 })).resolves.toBeUndefined();
		expect(Date.now()).toBe(0);
	});

	test('the node option caps that node only: its own requests per endpoint per minute', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A).lane('imageSubmit');
		const capped = send(lane, new Party(2), 3);
		const free = send(lane, new Party(), 3);
		await jest.advanceTimersByTimeAsync(0);
		expect(await Promise.all(free)).toEqual([0, 0, 0]);
		await jest.advanceTimersByTimeAsync(2 * WINDOW_MS);
		const cappedTimes = (await Promise.all(capped)) as number[];
		expect(cappedTimes.slice(0, 2)).toEqual([0, 0]);
		expect(cappedTimes[2]).toBeGreaterThanOrEqual(WINDOW_MS);
	});

	test('two organizations share nothing; the same base URL and token share one budget', async () => {
		const a = organizationBudget(URL_A, TOKEN_A, 10);
		const b = organizationBudget(URL_A, 'token-b', 10);
		expect(organizationBudget(URL_A, TOKEN_A, 10)).toBe(a);
		expect(organizationBudget('https://other.example', TOKEN_A, 10)).not.toBe(a);
		const party = new Party();
		await Promise.all(send(a.lane('status'), party, 10));
		(await a.lane('imageSubmit').acquire({ party }))!.throttled(60_000);
		expect(await Promise.all(send(b.lane('status'), party, 10))).toEqual(Array(10).fill(0));
		expect(await Promise.all(send(b.lane('imageSubmit'), party, 1))).toEqual([0]);
	});

	test('the plan on the credential is read on every use (an edited credential applies to the next run)', () => {
		const budget = organizationBudget(URL_A, TOKEN_A, 10);
		expect(budget.lane('status').limitPerWindow()).toBe(10);
		organizationBudget(URL_A, TOKEN_A, 60);
		expect(budget.lane('status').limitPerWindow()).toBe(60);
	});

	test('a second credential of the same organization without a plan does not clear the plan the first one states', async () => {
		const budget = organizationBudget(URL_A, TOKEN_A, 10);
		await Promise.all(send(budget.lane('imageSubmit'), new Party(), 10));
		expect(organizationBudget(URL_A, TOKEN_A, 0)).toBe(budget);
		const more = send(budget.lane('imageSubmit'), new Party(), 1);
		// The window is full at the stated plan: the next turn waits for it, not granted at once.
		await jest.advanceTimersByTimeAsync(1_000);
		expect(budget.lane('imageSubmit').limitPerWindow()).toBe(10);
		await jest.advanceTimersByTimeAsync(2 * WINDOW_MS);
		const [at] = await Promise.all(more);
		expect(at).toBeGreaterThanOrEqual(WINDOW_MS);
	});

	test('an organization whose lanes are still used (a long batch between checks) is not dropped as idle', async () => {
		const budget = organizationBudget(URL_A, TOKEN_A, 10);
		const party = new Party();
		for (let minute = 0; minute < 20; minute++) {
			await Promise.all(send(budget.lane('status'), party, 1));
			await jest.advanceTimersByTimeAsync(WINDOW_MS);
		}
		organizationBudget(URL_A, 'token-other');
		expect(organizationBudget(URL_A, TOKEN_A, 10)).toBe(budget);
	});

	test('idle organizations are dropped lazily, when the registry is next used; busy ones are kept', async () => {
		const idle = organizationBudget(URL_A, TOKEN_A, 1);
		const busy = organizationBudget(URL_A, 'token-busy', 1);
		await Promise.all(send(busy.lane('status'), new Party(), 1));
		const waiting = send(busy.lane('status'), new Party(), 1);
		expect(budgetCount()).toBe(2);
		jest.setSystemTime(IDLE_MS + 1_000);
		organizationBudget(URL_A, 'token-c');
		expect(budgetCount()).toBe(2);
		expect(organizationBudget(URL_A, TOKEN_A, 1)).not.toBe(idle);
		expect(organizationBudget(URL_A, 'token-busy', 1)).toBe(busy);
		await jest.advanceTimersByTimeAsync(2 * WINDOW_MS);
		await Promise.all(waiting);
	});
});
