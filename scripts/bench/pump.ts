/**
 * The budget's own cost per event, on a fake clock, at plans 60, 1000 and 3000 per minute with
 * 50, 100 and 250 requests waiting. Written against the budget's public surface only
 * (organizationBudget, Party, lane().acquire → Turn, useClock, resetBudgets), so it measures
 * today's scheduler and a rebuilt one alike.
 *
 * Setup: one lane of a fresh budget with the plan stated; `plan` requests granted and answered,
 * spread evenly over the last 60 s, so the window is full; then `waiters` requests from as many
 * parties (executions) wait for a turn. Steady state, one cycle: the clock moves to the lane's
 * next wake-up (the oldest request leaves the window), the lane wakes and grants one waiter
 * (wake), that request is answered (answer), and a new party arrives and waits (arrival): the
 * window stays full and the queue keeps its length. Each event is timed with the microtasks it
 * sets off (one setImmediate drain; an empty drain's cost is taken off), in the process's CPU
 * time (robust on a machine others share) and in wall time.
 */
import * as pacerModule from '../../nodes/BriaTailored/scheduler/Pacer';
import { endLoad, generationStamp, percentile, progress } from './common';
import type { PumpResult, PumpRow } from './types';

/** The budget's public surface, all this bench uses: typed here so the scheduler's internals can change freely. */
interface BudgetSurface {
	organizationBudget(baseUrl: string, apiToken: string, planPerMinute?: number): { lane(endpoint: 'status'): unknown };
	Party: new (capPerMinute?: number, label?: string) => unknown;
	useClock(clock?: { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void> }): void;
	resetBudgets(): void;
}

/** The surface, checked when the bench starts rather than failing halfway. */
function budgetSurface(): BudgetSurface {
	const surface = pacerModule as unknown as Partial<BudgetSurface>;
	const missing = (['organizationBudget', 'Party', 'useClock', 'resetBudgets'] as const).filter((name) => typeof surface[name] !== 'function');
	if (missing.length) throw new Error(`pump: scheduler/Pacer does not export ${missing.join(', ')}: point the import in scripts/bench/pump.ts at the module that does`);
	return surface as BudgetSurface;
}

const PLANS = [60, 1_000, 3_000];
const WAITERS = [50, 100, 250];
/** Each cell runs at most this many cycles, or for about this long, whichever comes first (at least MIN_CYCLES). */
const MAX_CYCLES = 300;
const MIN_CYCLES = 10;
const CELL_MS = 4_000;
/** Timer fires allowed to produce one grant before the cell is declared stuck. */
const MAX_FIRES_PER_GRANT = 20;

type Turn = { answered(): void; throttled(ms?: number): number; unanswered(): void };
type Lane = { acquire(request: { party: unknown; dueAt?: number; deadline?: number; signal?: AbortSignal }): Promise<Turn | undefined> };

interface Timer {
	at: number;
	resolve: () => void;
}

/** A clock the bench moves by hand: sleeps resolve only when it is advanced past them. */
class FakeClock {
	time = 1_000_000;

	private timers: Timer[] = [];

	readonly clock = {
		now: () => this.time,
		sleep: (ms: number, signal?: AbortSignal) =>
			new Promise<void>((resolve, reject) => {
				const timer: Timer = { at: this.time + Math.max(0, ms), resolve };
				this.timers.push(timer);
				signal?.addEventListener(
					'abort',
					() => {
						this.timers = this.timers.filter((other) => other !== timer);
						reject(new Error('aborted'));
					},
					{ once: true },
				);
			}),
	};

	pending(): number {
		return this.timers.length;
	}

	/** Moves to the earliest pending timer and fires every timer due by then; false when none is pending. */
	fireNext(): boolean {
		if (!this.timers.length) return false;
		const at = Math.min(...this.timers.map((timer) => timer.at));
		this.time = Math.max(this.time, at);
		const due = this.timers.filter((timer) => timer.at <= this.time);
		this.timers = this.timers.filter((timer) => timer.at > this.time);
		for (const timer of due) timer.resolve();
		return true;
	}

	clear(): void {
		this.timers = [];
	}
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));
const nowUs = () => Number(process.hrtime.bigint()) / 1_000;
const cpuUs = () => {
	const used = process.cpuUsage();
	return used.user + used.system;
};

/** An event's cost: wall time, and the process's CPU time (what counts on a machine others share too). */
interface Cost {
	wallUs: number;
	cpuUs: number;
}

const add = (a: Cost, b: Cost): Cost => ({ wallUs: a.wallUs + b.wallUs, cpuUs: a.cpuUs + b.cpuUs });

async function timed(action: () => void, empty: Cost): Promise<Cost> {
	const wall = nowUs();
	const cpu = cpuUs();
	action();
	await drain();
	return { wallUs: Math.max(0, nowUs() - wall - empty.wallUs), cpuUs: Math.max(0, cpuUs() - cpu - empty.cpuUs) };
}

async function measureCell(plan: number, waiters: number, empty: Cost): Promise<Omit<PumpRow, keyof ReturnType<typeof generationStamp> | 'variant'>> {
	const pacer = budgetSurface();
	const fake = new FakeClock();
	pacer.useClock(fake.clock);
	pacer.resetBudgets();
	const setupStarted = nowUs();
	const budget = pacer.organizationBudget(`http://127.0.0.1:1/bench-pump-${plan}-${waiters}`, 'bench-pump-token', plan);
	const lane = budget.lane('status') as unknown as Lane;
	let parties = 0;
	const party = () => new pacer.Party(0, `party ${++parties}`);
	// Granted turns, in order; every acquire's outcome lands here (a reset at the end rejects the rest).
	const granted: Turn[] = [];
	const wait = (p: Promise<Turn | undefined>) =>
		void p.then(
			(turn) => turn && granted.push(turn),
			() => undefined,
		);
	// Fill the window: `plan` requests answered, spread evenly over the last 60 s.
	const step = 60_000 / plan;
	// The clock stops at the last one: all `plan` lie inside the window, whatever margin a lane keeps.
	for (let i = 0; i < plan; i++) {
		if (i) fake.time += step;
		wait(lane.acquire({ party: party() }));
		await drain();
		const turn = granted.shift();
		if (!turn) throw new Error(`pump: plan ${plan}: request ${i + 1} of the first window got no turn at once`);
		turn.answered();
	}
	// The queue: `waiters` parties, one request each, none with room.
	for (let i = 0; i < waiters; i++) wait(lane.acquire({ party: party() }));
	await drain();
	if (granted.length) throw new Error(`pump: plan ${plan}: ${granted.length} waiters were granted with the window full`);
	const setupMs = (nowUs() - setupStarted) / 1000;

	const arrival: Cost[] = [];
	const answer: Cost[] = [];
	const wake: Cost[] = [];
	const cycle: Cost[] = [];
	const cellStarted = Date.now();
	try {
		while (arrival.length < MAX_CYCLES && (arrival.length < MIN_CYCLES || Date.now() - cellStarted < CELL_MS)) {
			// Wake: the clock reaches the lane's next wake-up until it grants one waiter.
			let wakeCost: Cost = { wallUs: 0, cpuUs: 0 };
			for (let fires = 0; !granted.length; fires++) {
				if (fires >= MAX_FIRES_PER_GRANT || !fake.pending()) throw new Error(`pump: plan ${plan}, ${waiters} waiters: no turn after ${fires} wake-ups`);
				wakeCost = add(wakeCost, await timed(() => fake.fireNext(), empty));
			}
			const turn = granted.shift() as Turn;
			const answerCost = await timed(() => turn.answered(), empty);
			const arrivalCost = await timed(() => wait(lane.acquire({ party: party() })), empty);
			wake.push(wakeCost);
			answer.push(answerCost);
			arrival.push(arrivalCost);
			cycle.push(add(add(wakeCost, answerCost), arrivalCost));
		}
	} finally {
		pacer.resetBudgets();
		fake.clear();
		pacer.useClock();
		await drain();
	}
	const wall = (costs: Cost[], p = 50) => percentile(costs.map((cost) => cost.wallUs), p);
	const cpu = (costs: Cost[], p = 50) => percentile(costs.map((cost) => cost.cpuUs), p);
	return {
		plan,
		waiters,
		cycles: arrival.length,
		arrivalUs: cpu(arrival),
		answerUs: cpu(answer),
		wakeUs: cpu(wake),
		cycleP95Us: cpu(cycle, 95),
		wall: { arrivalUs: wall(arrival), answerUs: wall(answer), wakeUs: wall(wake), cycleP95Us: wall(cycle, 95) },
		setupMs,
	};
}

export async function measurePump(): Promise<PumpResult> {
	budgetSurface();
	// What one setImmediate drain costs by itself, taken off every event.
	const empties: Cost[] = [];
	for (let i = 0; i < 200; i++) empties.push(await timed(() => undefined, { wallUs: 0, cpuUs: 0 }));
	const empty = { wallUs: percentile(empties.map((cost) => cost.wallUs), 50), cpuUs: percentile(empties.map((cost) => cost.cpuUs), 50) };
	const rows: PumpRow[] = [];
	for (const plan of PLANS) {
		for (const waiters of WAITERS) {
			const stamp = generationStamp();
			const cell = await measureCell(plan, waiters, empty);
			rows.push({ ...endLoad(stamp), variant: `plan-${plan}-waiters-${waiters}`, ...cell });
			progress(
				`pump: plan ${plan}/min, ${waiters} waiting (${stamp.generation}): CPU arrival ${(cell.arrivalUs / 1000).toFixed(3)} ms, answer ${(cell.answerUs / 1000).toFixed(3)} ms, wake ${(cell.wakeUs / 1000).toFixed(3)} ms; wall ${(cell.wall.arrivalUs / 1000).toFixed(3)} / ${(cell.wall.answerUs / 1000).toFixed(3)} / ${(cell.wall.wakeUs / 1000).toFixed(3)} ms (medians of ${cell.cycles} cycles; setup ${cell.setupMs.toFixed(0)} ms)`,
			);
		}
	}
	return { rows };
}
