import { CancelledError } from '../../../../nodes/BriaTailored/transport';
import type { Lane, Turn } from '../../../../nodes/BriaTailored/scheduler/Pacer';
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

	test('without a plan: 10 go at once (the slowest plan), then 1, 2, 4 … past what Bria accepted as it takes them, so an unknown limit costs one 429', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A).lane('imageSubmit');
		const party = new Party();
		const turns: Array<Promise<Turn | undefined>> = Array.from({ length: 100 }, async () => await lane.acquire({ party }));
		const granted = async () => (await Promise.all(turns.map(async (turn) => await Promise.race([turn, Promise.resolve('waiting' as const)])))).filter((turn) => turn !== 'waiting') as Turn[];
		const answer = async (from: number) => {
			(await granted()).slice(from).forEach((turn) => turn.answered());
			await jest.advanceTimersByTimeAsync(0);
			return (await granted()).length;
		};
		await jest.advanceTimersByTimeAsync(0);
		// Nothing answered yet: only the slowest plan's 10 are in flight.
		expect(await granted()).toHaveLength(10);
		// One request past what Bria took, then more each round as Bria takes them.
		expect(await answer(0)).toBe(11);
		const rounds = [11];
		for (let round = 0; round < 4; round++) rounds.push(await answer(round === 0 ? 10 : rounds[round - 1]));
		expect(rounds.every((count, n) => n === 0 || count > rounds[n - 1])).toBe(true);
		expect(rounds.at(-1)).toBeGreaterThanOrEqual(17);
		expect(lane.limitKnown()).toBe(false);
		// Bria refuses the next: the lane keeps to what it accepted and waits for Retry-After.
		const all = await granted();
		const accepted = rounds.at(-1)! - 1;
		for (const turn of all.slice(accepted, -1)) turn.answered();
		expect(all.at(-1)!.throttled(5_000)).toBe(5_000);
		// What Bria accepted in the window, not counting the refused one.
		expect(lane.limit()).toBeGreaterThanOrEqual(rounds.at(-2)!);
		expect(lane.limit()).toBeLessThan(all.length);
		expect(lane.limitKnown()).toBe(true);
		for (let round = 0; round < 12; round++) {
			await jest.advanceTimersByTimeAsync(WINDOW_MS);
			(await granted()).slice(all.length).forEach((turn) => turn.answered());
		}
		expect(await granted()).toHaveLength(100);
	});

	test('with a plan, a 429 shrinks the lane to what Bria accepted; a quiet window later one request asks for more, and Bria taking it lets the lane double back to the plan', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A, 100).lane('status');
		const party = new Party();
		await Promise.all(send(lane, party, 40));
		(await lane.acquire({ party }))!.throttled(1_000);
		expect(lane.limit()).toBe(40);
		const times = send(lane, party, 300);
		// Within the window after the 429: no growth, whatever waits.
		await jest.advanceTimersByTimeAsync(WINDOW_MS - 1_000);
		expect(lane.limit()).toBe(40);
		// A window later: one past the limit, taken, then doubling per answer round to the plan.
		await jest.advanceTimersByTimeAsync(2_000);
		expect(lane.limit()).toBe(100);
		await jest.advanceTimersByTimeAsync(5 * WINDOW_MS);
		await Promise.all(times);
	});

	test('two processes sharing one plan without seeing each other: each keeps a share with few 429s; when one leaves, the other has the whole plan within two windows', async () => {
		// One Bria window of 10 per minute shared by two budgets (two n8n processes), both always busy.
		const accepted: number[] = [];
		let refused = 0;
		const bria = (turn: Turn) => {
			const at = Date.now();
			while (accepted.length && accepted[0] <= at - WINDOW_MS) accepted.shift();
			if (accepted.length >= 10) {
				refused++;
				turn.throttled();
			} else {
				accepted.push(at);
				turn.answered();
			}
		};
		const a = organizationBudget(URL_A, 'token-a', 10).lane('imageSubmit');
		const b = organizationBudget(URL_A, 'token-b', 10).lane('imageSubmit');
		let running = true;
		let aLeaves = false;
		const sentBy = { a: [] as number[], b: [] as number[] };
		const busy = async (lane: Lane, name: 'a' | 'b') => {
			const party = new Party();
			while (running && !(name === 'a' && aLeaves)) {
				const turn = await lane.acquire({ party });
				const before = refused;
				bria(turn!);
				if (refused === before) sentBy[name].push(Date.now());
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
		};
		const loops = [busy(a, 'a'), busy(a, 'a'), busy(b, 'b'), busy(b, 'b')];
		await jest.advanceTimersByTimeAsync(10 * WINDOW_MS);
		const sharedAccepted = sentBy.a.length + sentBy.b.length;
		// Sharing: both get turns, the plan is used, and 429s stay a small part of the requests.
		expect(sentBy.a.length).toBeGreaterThan(20);
		expect(sentBy.b.length).toBeGreaterThan(20);
		expect(sharedAccepted).toBeGreaterThanOrEqual(80);
		expect(refused / (refused + sharedAccepted)).toBeLessThanOrEqual(0.2);
		aLeaves = true;
		const bBefore = sentBy.b.length;
		await jest.advanceTimersByTimeAsync(2 * WINDOW_MS);
		const bNext = sentBy.b.filter((at) => at >= 12 * WINDOW_MS - WINDOW_MS).length;
		expect(sentBy.b.length - bBefore).toBeGreaterThanOrEqual(10);
		expect(bNext).toBeGreaterThanOrEqual(9);
		running = false;
		await jest.advanceTimersByTimeAsync(3 * WINDOW_MS);
		await Promise.all(loops);
	});

	test('with a plan, a lane starts at half of it and doubles per answer round: two processes that burst at once meet on one probe each, not on half their requests', async () => {
		// Bria: 10 per minute for the organization; each request answered 50 ms after it is sent.
		const accepted: number[] = [];
		let refused = 0;
		const bria = async (turn: Turn): Promise<boolean> => {
			await new Promise((resolve) => setTimeout(resolve, 50));
			const at = Date.now();
			while (accepted.length && accepted[0] <= at - WINDOW_MS) accepted.shift();
			if (accepted.length >= 10) {
				refused++;
				turn.throttled();
				return false;
			}
			accepted.push(at);
			turn.answered();
			return true;
		};
		/** `count` jobs on a lane, each submitted until Bria takes it; when each was taken. */
		const burst = (lane: Lane, count: number) =>
			Array.from({ length: count }, async () => {
				const party = new Party();
				for (;;) if (await bria((await lane.acquire({ party }))!)) return Date.now();
			});
		const a = burst(organizationBudget(URL_A, 'token-a', 10).lane('imageSubmit'), 10);
		const b = burst(organizationBudget(URL_A, 'token-b', 10).lane('imageSubmit'), 10);
		await jest.advanceTimersByTimeAsync(3 * WINDOW_MS);
		const taken = (await Promise.all([...a, ...b])).sort((x, y) => x - y);
		expect(refused).toBeLessThanOrEqual(2);
		// Bria's plan used: 10 in the first second, the other 10 as soon as its window lets them.
		expect(taken.filter((at) => at < 1_000)).toHaveLength(10);
		expect(taken[19]).toBeLessThan(WINDOW_MS + 5_000);

		// Alone, the same lane reaches the whole plan within a few round trips of the first second.
		const alone = burst(organizationBudget(URL_A, 'token-c', 10).lane('imageSubmit'), 10);
		const start = Date.now();
		await jest.advanceTimersByTimeAsync(WINDOW_MS);
		expect(Math.max(...(await Promise.all(alone))) - start).toBeLessThan(1_000);
	});

	test('with a plan and no 429, a lane quiet for a whole window starts its next burst at half the plan again', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A, 10).lane('imageSubmit');
		await jest.advanceTimersByTimeAsync(0);
		await Promise.all(send(lane, new Party(), 10));
		expect(lane.limit()).toBe(10);
		await jest.advanceTimersByTimeAsync(WINDOW_MS + 1_000);
		// Held in flight (not answered): only the first half goes before an answer says the plan is free.
		const party = new Party();
		const granted: Turn[] = [];
		const turns = Array.from({ length: 10 }, async () => {
			const turn = (await lane.acquire({ party }))!;
			granted.push(turn);
			return turn;
		});
		await jest.advanceTimersByTimeAsync(1_000);
		expect(granted).toHaveLength(5);
		expect(lane.limit()).toBe(5);
		expect(lane.capacity()).toBe(10);
		// Each round of answers lets more go: 1, then 2, then the rest (the plan).
		const rounds: number[] = [];
		for (let answered = 0; answered < granted.length; ) {
			for (const turn of granted.slice(answered)) turn.answered();
			answered = granted.length;
			await jest.advanceTimersByTimeAsync(0);
			rounds.push(granted.length - answered);
		}
		expect(rounds).toEqual([1, 2, 2, 0]);
		await Promise.all(turns);
	});

	test('with a plan, slow start counts answers, not what is done in flight: a lane whose requests are always in flight still grows to the plan', async () => {
		// Found by review: growth from "answered in the window + 1" never came while a freed turn was
		// always taken again before the last request was answered (20 s answers, a trickle, then a batch).
		const lane = organizationBudget(URL_A, TOKEN_A, 10).lane('imageSubmit');
		const party = new Party();
		const slowRequest = async () => {
			const turn = (await lane.acquire({ party }))!;
			await new Promise((resolve) => setTimeout(resolve, 20_000));
			turn.answered();
		};
		const all: Array<Promise<void>> = [];
		for (let i = 0; i < 5; i++) {
			all.push(slowRequest());
			await jest.advanceTimersByTimeAsync(16_000);
		}
		for (let i = 0; i < 60; i++) all.push(slowRequest());
		await jest.advanceTimersByTimeAsync(3 * WINDOW_MS);
		expect(lane.limit()).toBe(10);
		await jest.advanceTimersByTimeAsync(10 * WINDOW_MS);
		await Promise.all(all);
	});

	test('with a plan, a lane once refused (sharing with another worker) and then quiet for a window starts at half the plan again, not at the whole plan', async () => {
		const lanes = ['worker-1', 'worker-2'].map((token) => organizationBudget(URL_A, token, 10).lane('imageSubmit'));
		for (const lane of lanes) {
			const party = new Party();
			for (let i = 0; i < 5; i++) (await lane.acquire({ party }))!.answered();
			(await lane.acquire({ party }))!.throttled();
		}
		// Later each is alone and climbs back to the plan, then both go quiet.
		const alone = lanes.map((lane) => Promise.all(send(lane, new Party(), 40)));
		await jest.advanceTimersByTimeAsync(15 * WINDOW_MS);
		await Promise.all(alone);
		expect(lanes.map((lane) => lane.limit())).toEqual([10, 10]);
		await jest.advanceTimersByTimeAsync(2 * WINDOW_MS);
		// A new burst on both at once: half the plan each while none is answered (before the fix each
		// sent the whole plan again, and Bria refused half of them).
		const held: Turn[][] = [[], []];
		const turns = lanes.flatMap((lane, n) => {
			const party = new Party();
			return Array.from({ length: 10 }, async () => {
				const turn = (await lane.acquire({ party }))!;
				held[n].push(turn);
			});
		});
		await jest.advanceTimersByTimeAsync(1_000);
		expect(held.map((turns) => turns.length)).toEqual([5, 5]);
		for (let round = 0; round < 10; round++) {
			for (const turns of held) turns.splice(0).forEach((turn) => turn.answered());
			await jest.advanceTimersByTimeAsync(WINDOW_MS);
		}
		await Promise.all(turns);
	});

	test('with a plan, a lane whose first burst Bria refused entirely (another worker holds the plan) does not start at half again after its pause', async () => {
		// From review: refusals leave the window empty, so the restart took the pause for a quiet
		// window and sent half the plan again after every 2 s pause (and backoff never grew).
		const lane = organizationBudget(URL_A, TOKEN_A, 10).lane('imageSubmit');
		const party = new Party();
		const turns = await Promise.all(Array.from({ length: 5 }, async () => (await lane.acquire({ party }))!));
		// Without Retry-After: the five refusals of one burst pause the lane once (2 s), not 2 × 2⁴ s.
		const pauses = turns.map((turn) => turn.throttled());
		expect(Math.max(...pauses)).toBeLessThanOrEqual(2_000);
		expect(lane.limit()).toBe(1);
		const granted: Turn[] = [];
		const more = Array.from({ length: 5 }, async () => granted.push((await lane.acquire({ party }))!));
		await jest.advanceTimersByTimeAsync(5_000);
		// After the pause: one request (what Bria accepted, at least 1), not five.
		expect(granted).toHaveLength(1);
		expect(lane.limit()).toBe(1);
		for (let round = 0; round < 20; round++) {
			granted.splice(0).forEach((turn) => turn.answered());
			await jest.advanceTimersByTimeAsync(WINDOW_MS);
		}
		await Promise.all(more);
	});

	test('a 429 on one lane caps no other lane; a window accepted above 10 on any lane proves the plan for the others', async () => {
		const budget = organizationBudget(URL_A, TOKEN_A);
		const party = new Party();
		// The model list meets a 429 at once (the editor's picker, say): the status lane does not care.
		(await budget.lane('models').acquire({ party }))!.throttled(30_000);
		expect(await Promise.all(send(budget.lane('status'), party, 10))).toEqual(Array(10).fill(0));
		// 25 accepted on the status lane within a window: a new lane starts from there, not from 10.
		const more = send(budget.lane('status'), party, 15);
		await jest.advanceTimersByTimeAsync(0);
		await Promise.all(more);
		expect(budget.provenPerWindow).toBe(25);
		expect(await Promise.all(send(budget.lane('imageSubmit'), party, 25))).toEqual(Array(25).fill(0));
		expect(budget.lane('models').limit()).toBe(1);
	});

	test('a wall-clock step (NTP, a resumed VM) neither blocks a lane nor ends a wait early: the budget runs on a monotonic clock', async () => {
		const lane = organizationBudget(URL_A, TOKEN_A, 2).lane('status');
		const party = new Party();
		await Promise.all(send(lane, party, 2));
		const next = send(lane, party, 1);
		// The wall clock jumps a day back, then a day forward: the window still frees 60 s after the answers.
		jest.setSystemTime(Date.now() - 86_400_000);
		await jest.advanceTimersByTimeAsync(30_000);
		jest.setSystemTime(Date.now() + 2 * 86_400_000);
		const waitedFor = lane.acquire({ party, deadline: performance.now() + 10_000 });
		await jest.advanceTimersByTimeAsync(29_000);
		expect(await Promise.race([next[0], Promise.resolve('waiting')])).toBe('waiting');
		await jest.advanceTimersByTimeAsync(2_000);
		await expect(next[0]).resolves.toBeDefined();
		await expect(waitedFor).resolves.toBeUndefined();
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
		expect(budget.lane('status').capacity()).toBe(10);
		organizationBudget(URL_A, TOKEN_A, 60);
		expect(budget.lane('status').capacity()).toBe(60);
	});

	test('a second credential of the same organization without a plan does not clear the plan the first one states', async () => {
		const budget = organizationBudget(URL_A, TOKEN_A, 10);
		await Promise.all(send(budget.lane('imageSubmit'), new Party(), 10));
		expect(organizationBudget(URL_A, TOKEN_A, 0)).toBe(budget);
		const more = send(budget.lane('imageSubmit'), new Party(), 1);
		// The window is full at the stated plan: the next turn waits for it, not granted at once.
		await jest.advanceTimersByTimeAsync(1_000);
		expect(budget.lane('imageSubmit').limit()).toBe(10);
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
		// A request still on its way (no answer yet) keeps its organization busy.
		const inFlight = await busy.lane('status').acquire({ party: new Party() });
		expect(budgetCount()).toBe(2);
		await jest.advanceTimersByTimeAsync(IDLE_MS + 1_000);
		organizationBudget(URL_A, 'token-c');
		expect(budgetCount()).toBe(2);
		expect(organizationBudget(URL_A, TOKEN_A, 1)).not.toBe(idle);
		expect(organizationBudget(URL_A, 'token-busy', 1)).toBe(busy);
		inFlight!.answered();
	});
});
