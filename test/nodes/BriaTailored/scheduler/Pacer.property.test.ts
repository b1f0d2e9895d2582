/*
 * The budget's rules as properties (docs/SCHEDULER.md, "Who may send now"), each checked over many
 * random scenarios on a fake clock: parties arriving at random times with random numbers of
 * requests, random answer times, random 429s, deadlines with fractions, cancellations.
 */
import { useClock } from '../../../../nodes/BriaTailored/scheduler/clock';
import type { OrganizationBudget, Turn } from '../../../../nodes/BriaTailored/scheduler/Pacer';
import { Lane, organizationBudget, Party, resetBudgets, WINDOW_MS } from '../../../../nodes/BriaTailored/scheduler/Pacer';
import { CancelledError } from '../../../../nodes/BriaTailored/transport';

/** A small deterministic generator: each seed is one reproducible scenario. */
function random(seed: number): () => number {
	let state = seed >>> 0 || 1;
	return () => {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		return (state >>> 0) / 2 ** 32;
	};
}

interface Grant {
	party: number;
	seq: number;
	/** When the request reached Bria (between grant and answer). */
	arrivedAt: number;
	counted: boolean;
}

interface RequestLog {
	party: number;
	askedSeq: number;
	grantedSeq?: number;
	ended: 'granted' | 'expired' | 'cancelled' | 'waiting';
}

interface Scenario {
	plan: number;
	parties: Array<{ arriveAt: number; requests: number; cap: number; cancelAt?: number; deadlineMs?: number }>;
	/** Share of requests Bria answers 429 (someone else uses the plan). */
	throttleShare: number;
}

function scenario(seed: number, options: { caps?: boolean; throttle?: boolean; deadlines?: boolean; cancels?: boolean } = {}): Scenario {
	const next = random(seed);
	const plan = [1, 3, 10, 60][Math.floor(next() * 4)];
	const parties = Array.from({ length: 1 + Math.floor(next() * 6) }, () => ({
		arriveAt: next() * 3 * WINDOW_MS,
		requests: 1 + Math.floor(next() * 3 * plan),
		cap: options.caps && next() < 0.5 ? 1 + Math.floor(next() * plan) : 0,
		cancelAt: options.cancels && next() < 0.3 ? next() * 4 * WINDOW_MS : undefined,
		deadlineMs: options.deadlines && next() < 0.5 ? 0.5 + next() * 2 * WINDOW_MS : undefined,
	}));
	return { plan, parties, throttleShare: options.throttle ? 0.1 : 0 };
}

/** Plays a scenario on `budget`; resolves with every grant and request once all have ended. */
async function play(budget: OrganizationBudget, plan: Scenario, seed: number, horizonMs = 30 * WINDOW_MS) {
	const next = random(seed * 31 + 7);
	const lane = budget.lane('imageSubmit');
	const grants: Grant[] = [];
	const requests: RequestLog[] = [];
	let seq = 0;
	const done: Array<Promise<void>> = [];
	plan.parties.forEach((spec, index) => {
		const party = new Party(spec.cap, `party ${index}`);
		const controller = new AbortController();
		if (spec.cancelAt !== undefined) setTimeout(() => controller.abort(), spec.cancelAt);
		done.push(
			new Promise<void>((arrived) => setTimeout(arrived, spec.arriveAt)).then(async () => {
				// Asked one at a time (a tick apart, no time passing), so a turn granted on the spot is
				// logged before the next request is asked: the log's order is the budget's.
				const tick = async () => await new Promise((resolve) => setTimeout(resolve, 0));
				const own = Array.from({ length: spec.requests }, async (_, nth) => {
					for (let n = 0; n < nth; n++) await tick();
					const log: RequestLog = { party: index, askedSeq: seq++, ended: 'waiting' };
					requests.push(log);
					let turn: Turn | undefined;
					try {
						turn = await lane.acquire({
							party,
							signal: controller.signal,
							deadline: spec.deadlineMs === undefined ? undefined : performance.now() + spec.deadlineMs,
						});
					} catch (error) {
						expect(error).toBeInstanceOf(CancelledError);
						log.ended = 'cancelled';
						return;
					}
					if (!turn) {
						log.ended = 'expired';
						return;
					}
					log.ended = 'granted';
					log.grantedSeq = seq++;
					const grantedAt = performance.now();
					const answerMs = next() * 2_000;
					const arrivedAt = grantedAt + next() * answerMs;
					const throttled = next() < plan.throttleShare;
					grants.push({ party: index, seq: log.grantedSeq, arrivedAt, counted: !throttled });
					await new Promise((answered) => setTimeout(answered, answerMs));
					if (throttled) turn.throttled(next() < 0.5 ? undefined : Math.round(next() * 5_000));
					else turn.answered();
				});
				await Promise.all(own);
			}),
		);
	});
	await jest.advanceTimersByTimeAsync(horizonMs);
	await Promise.all(done);
	return { grants, requests };
}

/** The most of `times` that lie within any `windowMs`-long span. */
function mostInAnyWindow(times: number[], windowMs: number): number {
	const sorted = [...times].sort((a, b) => a - b);
	let most = 0;
	for (let start = 0, end = 0; end < sorted.length; end++) {
		while (sorted[end] - sorted[start] >= windowMs) start++;
		most = Math.max(most, end - start + 1);
	}
	return most;
}

const SEEDS = Array.from({ length: 40 }, (_, n) => n + 1);

describe('the budget, as properties over random scenarios', () => {
	let sleeps = 0;
	beforeEach(() => {
		jest.useFakeTimers({ now: 0 });
		resetBudgets();
		sleeps = 0;
		// The real clock's shape (monotonic time, cancellable waits) on jest's fake timers, counting waits.
		useClock({
			now: () => performance.now(),
			sleep: async (ms, signal) =>
				await new Promise<void>((resolve, reject) => {
					sleeps++;
					const timer = setTimeout(resolve, ms);
					signal?.addEventListener('abort', () => {
						clearTimeout(timer);
						reject(new CancelledError());
					});
				}),
		});
	});
	afterEach(() => {
		useClock();
		resetBudgets();
		jest.useRealTimers();
	});

	test.each(SEEDS)('scenario %i: no lane ever has more than the plan in any 60 s window, as Bria counts (arrival); every request ends', async (seed) => {
		const plan = scenario(seed, { throttle: true, deadlines: true, cancels: true });
		const { grants, requests } = await play(organizationBudget('https://bria.example', `token-${seed}`, plan.plan), plan, seed);
		const counted = grants.filter((grant) => grant.counted).map((grant) => grant.arrivedAt);
		expect(mostInAnyWindow(counted, WINDOW_MS)).toBeLessThanOrEqual(plan.plan);
		expect(requests.filter((request) => request.ended === 'waiting')).toEqual([]);
	});

	test.each(SEEDS)('scenario %i: a party\'s own cap holds in any 60 s window, and capped parties do not hold up the others', async (seed) => {
		const plan = scenario(seed, { caps: true });
		const { grants } = await play(organizationBudget('https://bria.example', `token-${seed}`, plan.plan), plan, seed);
		plan.parties.forEach((spec, index) => {
			const own = grants.filter((grant) => grant.party === index).map((grant) => grant.arrivedAt);
			if (spec.cap) expect(mostInAnyWindow(own, WINDOW_MS)).toBeLessThanOrEqual(spec.cap);
			expect(own).toHaveLength(spec.requests);
		});
	});

	test.each(SEEDS)('scenario %i: every waiting party is served once per round: no party gets two turns while another waits throughout', async (seed) => {
		// The order of asks and grants as the lane sees them (a grant is logged the moment it is made).
		const order: Array<{ kind: 'ask' | 'grant'; party: string }> = [];
		const lanePrototype = Lane.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
		const grant = lanePrototype.grant;
		const acquire = lanePrototype.acquire;
		const grantSpy = jest.spyOn(lanePrototype, 'grant').mockImplementation(function (this: unknown, ...args: unknown[]) {
			order.push({ kind: 'grant', party: (args[0] as { party: Party }).party.label });
			return grant.apply(this, args);
		});
		const acquireSpy = jest.spyOn(lanePrototype, 'acquire').mockImplementation(function (this: unknown, ...args: unknown[]) {
			order.push({ kind: 'ask', party: (args[0] as { party: Party }).party.label });
			return acquire.apply(this, args);
		});
		try {
			const plan = scenario(seed, { throttle: true });
			await play(organizationBudget('https://bria.example', `token-${seed}`, plan.plan), plan, seed);
		} finally {
			grantSpy.mockRestore();
			acquireSpy.mockRestore();
		}
		// Requests of one party are served in the order asked (no deadlines or cancels here): pair them.
		const asked = new Map<string, number[]>();
		const served = new Map<string, number[]>();
		order.forEach((event, at) => {
			const log = event.kind === 'ask' ? asked : served;
			log.set(event.party, [...(log.get(event.party) ?? []), at]);
		});
		for (const [party, turns] of served) {
			for (let n = 1; n < turns.length; n++) {
				for (const [other, otherTurns] of served) {
					if (other === party) continue;
					// Another party with a request waiting from before this party's earlier turn until after its
					// next one, and no turn of its own in between: starved for a round.
					const servedBetween = otherTurns.some((at) => at > turns[n - 1] && at < turns[n]);
					const starved = servedBetween ? [] : (asked.get(other) ?? []).filter((askedAt, k) => askedAt < turns[n - 1] && otherTurns[k] > turns[n]);
					expect({ party, other, starved }).toEqual({ party, other, starved: [] });
				}
			}
		}
	});

	test.each(SEEDS)('scenario %i: a stopped execution\'s waiting requests end at once; no timer is left behind; waits stay few', async (seed) => {
		const plan = scenario(seed, { cancels: true, deadlines: true, throttle: true });
		const { requests } = await play(organizationBudget('https://bria.example', `token-${seed}`, plan.plan), plan, seed);
		expect(requests.every((request) => request.ended !== 'waiting')).toBe(true);
		expect(jest.getTimerCount()).toBe(0);
		// One wake-up per lane at a time, re-armed only when something happens: a few per request.
		expect(sleeps).toBeLessThanOrEqual(6 * requests.length + 10);
	});

	test('a cancelled request leaves at once, whatever its place', async () => {
		const lane = organizationBudget('https://bria.example', 'token', 1).lane('status');
		const party = new Party();
		(await lane.acquire({ party }))!.answered();
		const controller = new AbortController();
		const waiting = lane.acquire({ party, signal: controller.signal, deadline: 0.5 + 90_000 });
		await jest.advanceTimersByTimeAsync(1_000);
		expect(jest.getTimerCount()).toBe(1);
		controller.abort();
		await expect(waiting).rejects.toBeInstanceOf(CancelledError);
		expect(lane.busy()).toBe(false);
		expect(jest.getTimerCount()).toBe(0);
	});

	test.each(SEEDS.slice(0, 20))('scenario %i: two organizations never touch each other: B\'s turns are the same with or without A beside it', async (seed) => {
		const planB = scenario(seed, { deadlines: true });
		const alone = await play(organizationBudget('https://bria.example', 'token-b', planB.plan), planB, seed);
		resetBudgets();
		jest.setSystemTime(0);
		jest.useFakeTimers({ now: 0 });
		const planA = scenario(seed + 1_000, { throttle: true, cancels: true });
		const [, beside] = await Promise.all([
			play(organizationBudget('https://bria.example', 'token-a', planA.plan), planA, seed + 1_000),
			play(organizationBudget('https://bria.example', 'token-b', planB.plan), planB, seed),
		]);
		const shape = (run: { grants: Grant[] }) => run.grants.map((grant) => [grant.party, Math.round(grant.arrivedAt)]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
		expect(shape(beside)).toEqual(shape(alone));
	});
});
