import { createHash } from 'crypto';
import type { IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

import { CancelledError, CREDENTIAL_TYPE, onAbort } from '../transport';
import { now, sleep, TIMER_SLACK_MS } from './clock';
import { Heap, Queue } from './heap';
import { SlidingWindow, WINDOW_MS } from './window';

/*
 * Who may send now: the rate budget of one Bria organization, shared by every execution of this
 * n8n process. The model, rule by rule, is docs/SCHEDULER.md ("Who may send now"):
 *   1 window — a lane grants a turn only while fewer than its limit are in the last 60 s;
 *   2 limit  — the plan (a ceiling), or learned; shrinks to what Bria accepted on a 429, grows back
 *              once per quiet window; lanes never cap each other;
 *   3 round  — parties with a request due are served round-robin in arrival order;
 *   4 cap    — a node's own Requests per Minute is a window of that party alone;
 *   5 deadline and Stop end a wait at once.
 */

export { WINDOW_MS } from './window';
/** The budget's clock, swapped by tests and the benchmark. */
export { useClock } from './clock';

/** One lane per Bria endpoint: Bria counts each separately. */
export type Endpoint = 'imageSubmit' | 'structuredPromptSubmit' | 'status' | 'models';

/** Bria's smallest plan: what a lane may send before it knows anything. */
export const SLOWEST_PLAN_PER_MINUTE = 10;
/** Growing, at most this many requests added in one step. */
const MAX_STEP = 256;
/** Pause after a 429 without Retry-After: doubles while 429s repeat. */
const MIN_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 60_000;
/** Retry-After is honoured within these bounds: 0 must not spin, an absurd value must not stall. */
const MIN_RETRY_AFTER_MS = 500;
const MAX_RETRY_AFTER_MS = 300_000;
/** An organization nobody used for this long is forgotten (when the registry is next used). */
export const IDLE_MS = 15 * 60_000;

/**
 * Rule 2: with a plan stated, a lane's first burst is half of it, then it grows by slow start. Every
 * process (queue-mode worker) states the whole plan, and two that burst at once would otherwise
 * both send all of it and see half refused.
 */
function firstBurst(plan: number): number {
	return Math.ceil(plan / 2);
}

/*
 * Module state on purpose: n8n loads a node's module once per process, so every execution in the
 * process (each webhook call, form submission, agent tool call, manual run) sees this same Map,
 * which is what a per-organization limit needs. Each queue-mode worker is its own process with its
 * own Map: the lanes' limits shrink and grow to share the plan. Keyed by a hash: the token is never kept.
 */
const budgets = new Map<string, OrganizationBudget>();

/** The budget of the organization behind `baseUrl` + `apiToken`, created on first use. */
export function organizationBudget(baseUrl: string, apiToken: string, planPerMinute = 0): OrganizationBudget {
	const at = now();
	for (const [key, budget] of budgets) if (budget.idleSince(at) > IDLE_MS) budgets.delete(key);
	const key = createHash('sha256').update(baseUrl).update('\0').update(apiToken).digest('hex');
	let budget = budgets.get(key);
	if (!budget) {
		budget = new OrganizationBudget();
		budgets.set(key, budget);
	}
	// A stated plan replaces the last one (an edited credential applies to the next run); a second
	// credential of the organization that states none does not clear it.
	if (Number.isFinite(planPerMinute) && planPerMinute > 0) budget.planPerMinute = Math.floor(planPerMinute);
	budget.lastUsedAt = at;
	return budget;
}

/** The budget of the credential's organization, with the plan the credential states. */
export async function credentialBudget(ctx: IExecuteFunctions | ILoadOptionsFunctions, baseUrl: string): Promise<OrganizationBudget> {
	const credentials = await ctx.getCredentials(CREDENTIAL_TYPE);
	const plan = Number(credentials.requestsPerMinute ?? 0);
	return organizationBudget(baseUrl, String(credentials.apiToken ?? ''), Number.isFinite(plan) ? plan : 0);
}

/** Forgets every organization (tests and the benchmark, between scenarios). */
export function resetBudgets(): void {
	for (const budget of budgets.values()) budget.close();
	budgets.clear();
}

/** How many organizations the registry holds (tests of idle pruning). */
export function budgetCount(): number {
	return budgets.size;
}

/** Whoever waits for turns: one node run in one execution. Fairness is between parties. */
export class Party {
	/** This party's place on each lane it uses. */
	readonly onLane = new Map<Lane, PartyOnLane>();

	constructor(
		/** This node run's own cap per endpoint per minute (the node option); 0 = none. */
		readonly capPerMinute = 0,
		readonly label = 'party',
	) {}
}

interface PartyOnLane {
	party: Party;
	/** Its requests that are due, first due first. */
	ready: Queue<Waiter>;
	inRound: boolean;
	/** Waiting for room under its own cap (rule 4): out of the round until then. */
	parkedUntil: number | undefined;
	/** Its own requests, for its cap. */
	window: SlidingWindow;
}

export class OrganizationBudget {
	/** The credential's Requests per Minute, per endpoint; 0 = not stated. */
	planPerMinute = 0;

	lastUsedAt = 0;

	/** The most any lane has had accepted in one window: the plan is at least this, on every endpoint. */
	provenPerWindow = SLOWEST_PLAN_PER_MINUTE;

	private readonly lanes = new Map<Endpoint, Lane>();

	lane(endpoint: Endpoint): Lane {
		let lane = this.lanes.get(endpoint);
		if (!lane) {
			lane = new Lane(this);
			this.lanes.set(endpoint, lane);
		}
		return lane;
	}

	/** How long nothing has waited or been in flight (0 while busy). */
	idleSince(at: number): number {
		for (const lane of this.lanes.values()) if (lane.busy()) return 0;
		return at - this.lastUsedAt;
	}

	close(): void {
		for (const lane of this.lanes.values()) lane.close();
	}
}

/** A granted turn: tell the lane how the request went, exactly once. */
export interface Turn {
	/** Bria answered (any status but 429): the request counts in Bria's window from now. */
	answered(): void;
	/** Bria answered 429: it did not count the request. Returns how long the lane now waits. */
	throttled(retryAfterMs?: number): number;
	/** No answer came: Bria may have counted it. */
	unanswered(): void;
}

export interface TurnRequest {
	party: Party;
	/** Not before this time (a status check's planned moment, on the scheduler's clock); default now. */
	dueAt?: number;
	/** Gives up (resolves undefined) rather than take a turn after this time. */
	deadline?: number;
	/** Rejects at once with CancelledError when this fires (cancelled execution, stopped batch). */
	signal?: AbortSignal;
}

interface Waiter {
	party: Party;
	/** In its party's queue of requests that are due. */
	ready: boolean;
	dueAt: number;
	deadline: number;
	seq: number;
	resolve: (turn: Turn | undefined) => void;
	reject: (error: Error) => void;
	detach: () => void;
}

export class Lane {
	/** Every request still waiting, whatever its state: what `close` and `busy` see. */
	private readonly pending = new Set<Waiter>();

	/** Requests not due yet, by due time. */
	private readonly notDue = new Heap<Waiter>((a, b) => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq));

	/** Waiting requests with a deadline, by deadline. */
	private readonly deadlines = new Heap<Waiter>((a, b) => a.deadline < b.deadline);

	/** Parties out of the round at their own cap, by when it has room. */
	private readonly parked = new Heap<PartyOnLane>((a, b) => (a.parkedUntil ?? Infinity) < (b.parkedUntil ?? Infinity));

	/** Rule 3: parties with a request due, in the order they (re)joined. */
	private readonly round = new Queue<PartyOnLane>();

	/** Requests due and still waiting (the round's queues may also hold some that left). */
	private due = 0;

	private readonly window = new SlidingWindow();

	/** Rule 2: the limit as learned (the plan, where stated, is its ceiling). */
	private learned: number;

	private throttledOnce = false;

	/** Growing step by step, as before any 429. Off from a 429 until a probe is taken. */
	private growing = true;

	private last429At = -Infinity;

	/** When the lane last let one request past its limit, a quiet window after a 429. */
	private probedAt = -Infinity;

	/** Growing: the next step's size (1, 2, 4 …). */
	private nextStep = 1;

	/** Growing: how many the last step added; undefined for the first burst (the whole limit). */
	private lastStep: number | undefined;

	/** Growing: answers since the last step. Once as many as it added came back, the next step may go. */
	private answersSinceStep = 0;

	private pausedUntil = 0;

	private backoffMs = 0;

	private seq = 0;

	private wakeAt = Infinity;

	private wake: AbortController | undefined;

	constructor(private readonly budget: OrganizationBudget) {
		this.learned = budget.planPerMinute > 0 ? firstBurst(budget.planPerMinute) : budget.provenPerWindow;
	}

	/** Rule 2: how many requests this lane lets into a window now. */
	limit(): number {
		const plan = this.budget.planPerMinute;
		if (plan > 0) return Math.min(this.learned, plan);
		return this.throttledOnce ? this.learned : Math.max(this.learned, this.budget.provenPerWindow);
	}

	/**
	 * What the lane can reach without another 429: the plan while Bria has refused nothing (the
	 * slow start gets there within a few round trips), else the limit. Checks are placed by it.
	 */
	capacity(): number {
		const plan = this.budget.planPerMinute;
		return plan > 0 && !this.throttledOnce ? plan : this.limit();
	}

	/**
	 * Whether the limit is Bria's (the plan, or taught by a 429) rather than a floor the lane grows
	 * past as needed (rule 8 reads it: checks are rationed against a floor only when jobs outnumber it).
	 */
	limitKnown(): boolean {
		return this.budget.planPerMinute > 0 || this.throttledOnce;
	}

	/** Turns this lane has in the current window at its capacity (the scheduler's checks read it; no side effect). */
	freeTurns(): number {
		return Math.max(0, this.capacity() - this.window.count(now()));
	}

	busy(): boolean {
		return this.pending.size > 0 || this.window.inFlight > 0;
	}

	/**
	 * Waits for a turn to send one request. Resolves undefined, taking no turn, when none comes by
	 * `deadline` (at once when a pause already lasts past it).
	 */
	async acquire(request: TurnRequest): Promise<Turn | undefined> {
		if (request.signal?.aborted) throw new CancelledError();
		const at = now();
		// In use, even between a long batch's checks: not to be dropped as idle.
		this.budget.lastUsedAt = at;
		const deadline = request.deadline ?? Infinity;
		if (this.surelyLate(request.party, at, deadline)) return undefined;
		return await new Promise<Turn | undefined>((resolve, reject) => {
			const waiter: Waiter = {
				party: request.party,
				ready: false,
				dueAt: request.dueAt ?? at,
				deadline,
				seq: this.seq++,
				resolve,
				reject,
				detach: () => undefined,
			};
			if (request.signal) {
				waiter.detach = onAbort(request.signal, () => {
					if (!this.pending.has(waiter)) return;
					this.forget(waiter);
					reject(new CancelledError());
					this.pump();
				});
			}
			this.pending.add(waiter);
			if (deadline !== Infinity) this.deadlines.push(waiter);
			if (waiter.dueAt > at) this.notDue.push(waiter);
			else this.makeReady(waiter);
			this.pump();
		});
	}

	/**
	 * Whether no turn can come by `deadline`, known already: the lane's pause, its window or the
	 * party's own cap has no room before then (waiting in the round can only make it later).
	 */
	private surelyLate(party: Party, at: number, deadline: number): boolean {
		if (deadline === Infinity) return false;
		const from = Math.max(at, this.pausedUntil);
		// At its capacity: a lane still in its slow start grows before that deadline if demand holds.
		const laneRoom = this.window.roomAt(from, this.capacity());
		const capRoom = party.capPerMinute > 0 ? this.place(party).window.roomAt(from, party.capPerMinute) : from;
		// Infinity: all its room is in flight, and a request answered now counts a whole window more.
		const counted = (room: number) => (room === Infinity ? from + WINDOW_MS : room);
		const earliest = Math.max(counted(laneRoom), counted(capRoom));
		return earliest > deadline + TIMER_SLACK_MS;
	}

	/** Rejects every waiter and stops the wake timer (registry reset). */
	close(): void {
		for (const waiter of [...this.pending]) {
			this.forget(waiter);
			waiter.reject(new CancelledError());
		}
		this.setWake(Infinity);
	}

	private place(party: Party): PartyOnLane {
		let place = party.onLane.get(this);
		if (!place) {
			place = { party, ready: new Queue(), inRound: false, parkedUntil: undefined, window: new SlidingWindow() };
			party.onLane.set(this, place);
		}
		return place;
	}

	private makeReady(waiter: Waiter): void {
		waiter.ready = true;
		this.due++;
		const place = this.place(waiter.party);
		place.ready.push(waiter);
		this.joinRound(place);
	}

	private joinRound(place: PartyOnLane): void {
		if (place.inRound || place.parkedUntil !== undefined) return;
		place.inRound = true;
		this.round.push(place);
	}

	/** A waiter that leaves (granted, expired, cancelled): out of every index; queues skip it lazily. */
	private forget(waiter: Waiter): void {
		if (waiter.ready) this.due--;
		waiter.ready = false;
		this.pending.delete(waiter);
		this.notDue.remove(waiter);
		this.deadlines.remove(waiter);
		waiter.detach();
	}

	/** The next waiting request of a party, skipping those that already left. */
	private nextOf(place: PartyOnLane): Waiter | undefined {
		for (let waiter = place.ready.peek(); waiter; waiter = place.ready.peek()) {
			if (this.pending.has(waiter)) return waiter;
			place.ready.shift();
		}
		return undefined;
	}

	/** Hands out every turn that is due and has room (rules 1–4), expires what is late, then sleeps. */
	private pump(): void {
		const at = now();
		for (let waiter = this.notDue.peek(); waiter && waiter.dueAt <= at + TIMER_SLACK_MS; waiter = this.notDue.peek()) {
			this.notDue.pop();
			this.makeReady(waiter);
		}
		for (let place = this.parked.peek(); place && (place.parkedUntil ?? Infinity) <= at; place = this.parked.peek()) {
			this.parked.pop();
			this.unpark(place);
		}
		let roomAt = this.roomAt(at);
		while (roomAt <= at && this.round.length) {
			const place = this.round.shift()!;
			place.inRound = false;
			const waiter = this.nextOf(place);
			if (!waiter) continue;
			const capAt = place.party.capPerMinute > 0 ? place.window.roomAt(at, place.party.capPerMinute) : at;
			if (capAt > at) {
				place.parkedUntil = capAt;
				this.parked.push(place);
				continue;
			}
			place.ready.shift();
			this.forget(waiter);
			waiter.resolve(this.grant(place));
			if (this.nextOf(place)) this.joinRound(place);
			roomAt = this.roomAt(at);
		}
		// Expired only after granting: a turn that was due with room by its deadline is not refused
		// because the timer that brought it fired a few milliseconds late.
		for (let waiter = this.deadlines.peek(); waiter && waiter.deadline + TIMER_SLACK_MS < at; waiter = this.deadlines.peek()) {
			this.forget(waiter);
			waiter.resolve(undefined);
		}
		const nextDeadline = this.deadlines.peek()?.deadline;
		this.setWake(
			Math.min(
				this.notDue.peek()?.dueAt ?? Infinity,
				this.parked.peek()?.parkedUntil ?? Infinity,
				nextDeadline === undefined ? Infinity : nextDeadline + TIMER_SLACK_MS + 1,
				this.due > 0 ? roomAt : Infinity,
			),
		);
	}

	private unpark(place: PartyOnLane): void {
		this.parked.remove(place);
		place.parkedUntil = undefined;
		if (this.nextOf(place)) this.joinRound(place);
	}

	/** Rules 1 and 2: the earliest time from `at` this lane has room, growing the limit where it holds requests back. */
	private roomAt(at: number): number {
		this.restartAfterQuiet(at);
		const from = Math.max(at, this.pausedUntil);
		let roomAt = this.window.roomAt(from, this.limit());
		if (roomAt > from && this.round.length) {
			this.climb(at);
			roomAt = this.window.roomAt(from, this.limit());
		}
		return roomAt;
	}

	/**
	 * Rule 2, a stated plan: a lane that had nothing in a whole window, neither a request Bria
	 * counted nor a 429 (refusals leave no trace in the window), starts its next burst as a new lane
	 * does, at half the plan, whatever it learned before: others (another worker, another tool) may
	 * have come or gone meanwhile, and two bursts starting together meet on a probe or two.
	 */
	private restartAfterQuiet(at: number): void {
		const plan = this.budget.planPerMinute;
		if (plan <= 0 || at < this.pausedUntil || at - this.last429At < WINDOW_MS || this.window.count(at) > 0) return;
		if (this.learned <= firstBurst(plan) && !this.throttledOnce) return;
		this.learned = firstBurst(plan);
		this.throttledOnce = false;
		this.growing = true;
		this.backoffMs = 0;
		this.startSteps(undefined);
	}

	private startSteps(lastStep: number | undefined, answered = 0): void {
		this.nextStep = 1;
		this.lastStep = lastStep;
		this.answersSinceStep = answered;
	}

	/** Rule 2, growing: only while the limit holds someone back. */
	private climb(at: number): void {
		const plan = this.budget.planPerMinute;
		const ceiling = plan > 0 ? plan : Infinity;
		if (this.growing) {
			// One step past the limit, 1 at first and twice the last each time Bria has answered as
			// many as that step let through (doubling per round trip, like slow start, counted in
			// answers so that requests always in flight do not hold it back): an unknown limit costs
			// one 429, and a stated plan is reached from half of it in log2(plan) round trips.
			if (this.answersSinceStep < (this.lastStep ?? this.limit())) return;
			const from = this.limit();
			const grown = Math.min(ceiling, from + this.nextStep);
			if (grown <= from) return;
			this.learned = grown;
			this.lastStep = grown - from;
			this.nextStep = Math.min(MAX_STEP, 2 * this.nextStep);
			this.answersSinceStep = 0;
			return;
		}
		// After a 429, a whole window without one: a single request past the limit asks whether the
		// others have left. Bria taking it restarts the growth (`answered`); a 429 ends it (`shrink`).
		if (at - this.last429At >= WINDOW_MS && this.probedAt < this.last429At) {
			this.learned = Math.min(ceiling, this.learned + 1);
			this.probedAt = at;
		}
	}

	/** Rule 2, shrinking: Bria accepted this many in its window; someone else uses the rest. */
	private shrink(retryAfterMs: number | undefined): number {
		const at = now();
		this.learned = Math.max(1, this.window.accepted(at));
		this.throttledOnce = true;
		this.growing = false;
		this.startSteps(1);
		this.last429At = at;
		// Without Retry-After the pause doubles while 429s repeat; the refusals of one burst, coming
		// back while the lane is paused already, are one 429 (review: five made a 32 s pause).
		const repeated = at >= this.pausedUntil;
		this.backoffMs =
			retryAfterMs !== undefined
				? Math.min(Math.max(retryAfterMs, MIN_RETRY_AFTER_MS), MAX_RETRY_AFTER_MS)
				: repeated
					? Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, this.backoffMs * 2))
					: Math.max(MIN_BACKOFF_MS, this.backoffMs);
		this.pausedUntil = Math.max(this.pausedUntil, at + this.backoffMs);
		return this.pausedUntil - at;
	}

	private grant(place: PartyOnLane): Turn {
		this.window.sent();
		place.window.sent();
		let settled = false;
		const settle = (counted: boolean): boolean => {
			if (settled) return false;
			settled = true;
			const answeredAt = now();
			if (counted) {
				this.window.answered(answeredAt);
				place.window.answered(answeredAt);
			} else {
				this.window.dropped();
				place.window.dropped();
			}
			// A party parked until one of its own requests is answered has room again.
			if (place.parkedUntil === Infinity) this.unpark(place);
			return true;
		};
		return {
			answered: () => {
				if (!settle(true)) return;
				this.backoffMs = 0;
				const accepted = this.window.accepted(now());
				if (accepted > this.budget.provenPerWindow) this.budget.provenPerWindow = accepted;
				this.answersSinceStep++;
				// After a 429, the quiet window's single probe was taken (Bria holds as many as the limit
				// now): grow again, the probe counting as a first step of 1, answered.
				if (!this.growing && this.probedAt > this.last429At && accepted >= this.learned) {
					this.growing = true;
					this.startSteps(1, 1);
				}
				this.pump();
			},
			throttled: (retryAfterMs?: number) => {
				if (!settle(false)) return Math.max(0, this.pausedUntil - now());
				const wait = this.shrink(retryAfterMs);
				this.pump();
				return wait;
			},
			unanswered: () => {
				if (!settle(true)) return;
				this.pump();
			},
		};
	}

	/** At most one live wake-up per lane, cancelled when superseded (no timer outlives its use). */
	private setWake(at: number): void {
		if (at === this.wakeAt) return;
		this.wake?.abort();
		this.wake = undefined;
		this.wakeAt = at;
		if (at === Infinity) return;
		const controller = new AbortController();
		this.wake = controller;
		sleep(Math.max(1, at - now()), controller.signal).then(
			() => {
				if (this.wake !== controller) return;
				this.wake = undefined;
				this.wakeAt = Infinity;
				this.pump();
			},
			() => undefined,
		);
	}
}
