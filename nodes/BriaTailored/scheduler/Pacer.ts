import { createHash } from 'crypto';
import type { IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

import { CancelledError, CREDENTIAL_TYPE, onAbort, pause } from '../transport';
import { JobDurations } from './JobDurations';

/*
 * The rate budget of one Bria organization, shared by every execution of this n8n process.
 *
 * Bria limits requests per organization, per endpoint, per minute (a sliding window), and status
 * checks count. So every request the node sends waits for a turn on its endpoint's lane:
 * - with the plan known (the credential's Requests per Minute), a lane never lets more than the
 *   plan into any 60 s window: no 429 at all, and bursts up to the plan go at once;
 * - without it, the lane sends freely up to the slowest plan (10), probes above that a few
 *   requests at a time, learns the limit from the first 429 (the requests Bria accepted in the
 *   window), and lifts that ceiling again after a quiet window, so one early 429 never pins a
 *   fast plan to the slowest one;
 * - turns go round-robin between the parties waiting on a lane (one party = one node run of one
 *   execution), so a 200-item batch cannot starve a single form submission.
 */

/** One lane per Bria endpoint: Bria counts each separately. */
export type Endpoint = 'imageSubmit' | 'structuredPromptSubmit' | 'status' | 'models';

export const WINDOW_MS = 60_000;
/** Bria's smallest plan: always safe to send this many per window. */
export const SLOWEST_PLAN_PER_MINUTE = 10;
/** Checks a job of Bria's usual length takes at the 2 s cadence (1.5, 3.45, 5.4, 7.35 s). */
export const CADENCE_CHECKS_PER_JOB = 4;
/** Bria's plans per endpoint per minute (Free, Pay-as-you-go); Enterprise numbers lie above. */
const STANDARD_PLANS = [SLOWEST_PLAN_PER_MINUTE, 60];
/** Past Bria's window edge before a slot counts as free again (timers and clocks are not exact). */
const WINDOW_MARGIN_MS = 250;
const MIN_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 60_000;
/** Even `Retry-After: 0` waits a little, so a throttled caller never spins. */
const MIN_RETRY_AFTER_MS = 500;
const MAX_PROBES_IN_FLIGHT = 256;
/** A learned ceiling is lifted after 1, 2, 4 … 8 quiet windows (longer each time it proves right). */
const MAX_QUIET_WINDOWS = 8;
/** An organization nobody used for this long is forgotten (when the registry is next used). */
export const IDLE_MS = 15 * 60_000;
/** A timer may fire a millisecond or two before the clock reads its time. */
const TIMER_SLACK_MS = 2;

/** Time source of the whole budget. Tests and the benchmark may swap it (`useClock`). */
export interface BudgetClock {
	now(): number;
	/** Waits `ms`; rejects as soon as `signal` fires. */
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: BudgetClock = { now: () => Date.now(), sleep: pause };
let clock: BudgetClock = realClock;

/** Swaps the clock of every budget (no argument: the real one back). */
export function useClock(replacement?: BudgetClock): void {
	clock = replacement ?? realClock;
}

export function budgetNow(): number {
	return clock.now();
}

export async function budgetSleep(ms: number, signal?: AbortSignal): Promise<void> {
	if (signal?.aborted) throw new CancelledError();
	if (ms > 0) await clock.sleep(ms, signal);
}

/*
 * Module state on purpose: n8n loads a node's module once per process, so every execution in the
 * process (each webhook call, form submission, agent tool call, manual run) sees this same Map,
 * which is what a per-organization limit needs. Each queue-mode worker is its own process with
 * its own Map (README: divide the plan among them). Keyed by a hash: the token is never kept.
 */
const budgets = new Map<string, OrganizationBudget>();

/** The budget of the organization behind `baseUrl` + `apiToken`, created on first use. */
export function organizationBudget(baseUrl: string, apiToken: string, planPerMinute = 0): OrganizationBudget {
	const now = clock.now();
	for (const [key, budget] of budgets) if (budget.idleSince(now) > IDLE_MS) budgets.delete(key);
	const key = createHash('sha256').update(baseUrl).update('\0').update(apiToken).digest('hex');
	let budget = budgets.get(key);
	if (!budget) {
		budget = new OrganizationBudget();
		budgets.set(key, budget);
	}
	// A stated plan replaces the last one (an edited credential applies to the next run); a second
	// credential of the organization that states none does not clear it.
	if (Number.isFinite(planPerMinute) && planPerMinute > 0) budget.planPerMinute = planPerMinute;
	budget.lastUsedAt = now;
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
	/** Lane turn counter value when this party was last served, per lane. */
	readonly lastServed = new Map<Lane, number>();

	constructor(
		/** This node's own cap per endpoint per minute (the node option); 0 = none. */
		readonly capPerMinute = 0,
		readonly label = 'party',
	) {}
}

export class OrganizationBudget {
	/** The credential's Requests per Minute, per endpoint; 0 = unknown (learned). */
	planPerMinute = 0;

	lastUsedAt = 0;

	readonly durations = new JobDurations();

	private readonly lanes = new Map<Endpoint, Lane>();

	lane(endpoint: Endpoint): Lane {
		let lane = this.lanes.get(endpoint);
		if (!lane) {
			lane = new Lane(this);
			this.lanes.set(endpoint, lane);
		}
		return lane;
	}

	/**
	 * The lowest limit any lane learned from a 429 (while it holds). Bria's plan is one number for
	 * every endpoint of the organization, so a lane that has not met a 429 yet keeps to it too,
	 * rather than spending its window before it finds out on its own.
	 */
	learnedLimit(): number | undefined {
		let lowest: number | undefined;
		for (const lane of this.lanes.values()) {
			const limit = lane.ownLearnedLimit();
			if (limit !== undefined && (lowest === undefined || limit < lowest)) lowest = limit;
		}
		return lowest;
	}

	/** Submits waiting for a turn, on every submit lane: jobs that will soon need checks too. */
	waitingSubmits(): number {
		let waiting = 0;
		for (const [endpoint, lane] of this.lanes) if (endpoint === 'imageSubmit' || endpoint === 'structuredPromptSubmit') waiting += lane.waiting();
		return waiting;
	}

	/** The most requests one lane has seen accepted in a window: the plan is at least that, on every endpoint. */
	knownSafe(): number {
		let most = SLOWEST_PLAN_PER_MINUTE;
		for (const lane of this.lanes.values()) most = Math.max(most, lane.safeCount());
		return most;
	}

	/** How long nothing has waited or been in flight (0 while busy). */
	idleSince(now: number): number {
		for (const lane of this.lanes.values()) if (lane.busy()) return 0;
		return now - this.lastUsedAt;
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
	/** Not before this time (a status check's planned moment); default now. */
	dueAt?: number;
	/** Gives up (resolves undefined) rather than take a turn after this time. */
	deadline?: number;
	/** Rejects at once with CancelledError when this fires (cancelled execution, stopped batch). */
	signal?: AbortSignal;
}

interface Sent {
	at: number;
	inFlight: boolean;
	probe: boolean;
	party: Party;
}

interface Waiter extends Required<Omit<TurnRequest, 'signal'>> {
	seq: number;
	resolve: (turn: Turn | undefined) => void;
	reject: (error: Error) => void;
	detach: () => void;
}

export class Lane {
	private readonly waiters: Waiter[] = [];

	/** Requests Bria may count in its window: in flight, or answered within the last window. */
	private sent: Sent[] = [];

	private pausedUntil = 0;

	private backoffMs = 0;

	/** Without a plan: the limit a 429 taught, while it holds. */
	private learnedLimit: number | undefined;

	/** Without a plan: requests per window known to be accepted. */
	private safe = SLOWEST_PLAN_PER_MINUTE;

	private probeWidth = 1;

	private probesInFlight = 0;

	private last429At = -Infinity;

	private quietWindows = 1;

	/** The ceiling that was last lifted, to notice when lifting it was wrong. */
	private liftedCeiling: number | undefined;

	private turnsServed = 0;

	private seq = 0;

	private wakeAt = Infinity;

	private wake: AbortController | undefined;

	/** Jobs currently waiting on this lane's status checks (share of the budget). */
	activeJobs = 0;

	constructor(private readonly budget: OrganizationBudget) {}

	/** The limit per window this lane keeps to now, if one is known (plan, or learned by any lane). */
	limitPerWindow(): number | undefined {
		if (this.budget.planPerMinute > 0) return this.budget.planPerMinute;
		return this.budget.learnedLimit();
	}

	/**
	 * What this lane can count on per window: the known limit or, without one, the smallest of
	 * Bria's plans that what Bria has accepted does not rule out (past them all, twice what it accepted).
	 * Spending beyond it is a probe that may cost a whole window on a Pay-as-you-go plan.
	 */
	budgetPerWindow(): number {
		const limit = this.limitPerWindow();
		if (limit !== undefined) return limit;
		const safe = this.budget.knownSafe();
		// Past every standard plan (Enterprise), the lane probes upward by doubling anyway: count on that.
		return STANDARD_PLANS.find((plan) => plan >= safe) ?? 2 * safe;
	}

	/** Without a plan: requests per window this lane has seen accepted (grown by probes). */
	safeCount(): number {
		return this.safe;
	}

	/** The limit this lane learned from its own 429s, while it holds. */
	ownLearnedLimit(): number | undefined {
		this.liftCeilingIfQuiet(clock.now());
		return this.learnedLimit;
	}

	/** Whether checking every active job at the 2 s cadence would overrun the known limit. */
	scarce(): boolean {
		const limit = this.limitPerWindow();
		return limit !== undefined && this.activeJobs * (WINDOW_MS / 1_950) > limit;
	}

	/** Each active job's fair share of the lane: the gap between two checks of one job. */
	shareMs(): number {
		const limit = this.limitPerWindow();
		return limit === undefined ? 0 : (Math.max(1, this.activeJobs) * WINDOW_MS) / limit;
	}

	/**
	 * The least gap between two checks of one running job: its fair share while checks are scarce,
	 * unless most of the window is still free and holds a typical job's checks at the cadence for
	 * every waiting job (a burst whose jobs are about done is not held back by the steady-state share).
	 */
	followUpShareMs(): number {
		if (!this.scarce()) return 0;
		const limit = this.limitPerWindow() ?? 0;
		const free = limit - this.countInWindow(clock.now());
		if (free >= limit / 2 && free >= this.activeJobs * CADENCE_CHECKS_PER_JOB) return 0;
		return this.shareMs();
	}

	/** Requests waiting for a turn. */
	waiting(): number {
		return this.waiters.length;
	}

	busy(): boolean {
		return this.waiters.length > 0 || this.sent.some((entry) => entry.inFlight);
	}

	/**
	 * Waits for a turn to send one request. Resolves undefined, taking no turn, when the turn
	 * would come after `deadline` (at once when that is already certain: a long Retry-After).
	 */
	async acquire(request: TurnRequest): Promise<Turn | undefined> {
		if (request.signal?.aborted) throw new CancelledError();
		const now = clock.now();
		// In use, even between a long batch's checks: not to be dropped as idle.
		this.budget.lastUsedAt = now;
		const waiter = {
			party: request.party,
			dueAt: request.dueAt ?? now,
			deadline: request.deadline ?? Infinity,
			seq: this.seq++,
		};
		// Refused at once only when the turn is sure to come too late; a probe's pending answer
		// (no known time yet) is waited for, up to the deadline.
		const turnAt = Math.max(waiter.dueAt, this.roomAt(now, waiter.party));
		if (turnAt !== Infinity && turnAt > waiter.deadline + TIMER_SLACK_MS) return undefined;
		return await new Promise<Turn | undefined>((resolve, reject) => {
			const cancelled = () => {
				this.remove(entry);
				reject(new CancelledError());
				this.pump();
			};
			const entry: Waiter = {
				...waiter,
				resolve,
				reject,
				detach: request.signal ? onAbort(request.signal, cancelled) : () => undefined,
			};
			this.waiters.push(entry);
			this.pump();
		});
	}

	/** Rejects every waiter and stops the wake timer (registry reset). */
	close(): void {
		for (const waiter of this.waiters.splice(0)) {
			waiter.detach();
			waiter.reject(new CancelledError());
		}
		this.stopWake();
	}

	private remove(waiter: Waiter): void {
		const index = this.waiters.indexOf(waiter);
		if (index !== -1) this.waiters.splice(index, 1);
		waiter.detach();
	}

	/** Hands out every turn that is due and has room, then sleeps until the next one could be. */
	private pump(): void {
		const now = clock.now();
		this.forgetOld(now);
		for (;;) {
			const due = this.waiters.filter((waiter) => waiter.dueAt <= now + TIMER_SLACK_MS);
			// Round-robin: the party served longest ago first; within a party, the earliest due.
			due.sort(
				(a, b) =>
					(a.party.lastServed.get(this) ?? -1) - (b.party.lastServed.get(this) ?? -1) || a.dueAt - b.dueAt || a.seq - b.seq,
			);
			const next = due.find((waiter) => this.roomAt(now, waiter.party) <= now + TIMER_SLACK_MS);
			if (!next) break;
			this.remove(next);
			next.resolve(this.grant(next.party, now));
		}
		// Expired only after granting: a turn that was due with room by its deadline is not refused
		// because the timer that brought it fired a few milliseconds late.
		for (const waiter of [...this.waiters]) {
			if (waiter.deadline + TIMER_SLACK_MS < now) {
				this.remove(waiter);
				waiter.resolve(undefined);
			}
		}
		let wakeAt = Infinity;
		for (const waiter of this.waiters) {
			const turnAt = Math.max(waiter.dueAt, this.roomAt(now, waiter.party));
			wakeAt = Math.min(wakeAt, turnAt, waiter.deadline + TIMER_SLACK_MS + 1);
		}
		this.setWake(wakeAt);
	}

	/**
	 * At most one live wake-up per lane: a later wake is left to the pending one (it re-plans when
	 * it fires), an earlier one supersedes it. n8n's sleep cannot be cancelled, so a superseded or
	 * unneeded timer just fires once, finds nothing to do, and is gone: no timer outlives its time.
	 */
	private setWake(at: number): void {
		if (at >= this.wakeAt) return;
		this.wake?.abort();
		const controller = new AbortController();
		this.wake = controller;
		this.wakeAt = at;
		clock.sleep(Math.max(0, at - clock.now()), controller.signal).then(
			() => {
				if (this.wake !== controller) return;
				this.wake = undefined;
				this.wakeAt = Infinity;
				this.pump();
			},
			() => undefined,
		);
	}

	private stopWake(): void {
		this.wake?.abort();
		this.wake = undefined;
		this.wakeAt = Infinity;
	}

	private grant(party: Party, now: number): Turn {
		const inWindow = this.countInWindow(now);
		const probe = this.limitPerWindow() === undefined && inWindow >= this.safe;
		const entry: Sent = { at: now, inFlight: true, probe, party };
		this.sent.push(entry);
		if (probe) this.probesInFlight++;
		party.lastServed.set(this, this.turnsServed++);
		let settled = false;
		const settle = () => {
			if (settled) return false;
			settled = true;
			entry.inFlight = false;
			if (entry.probe) this.probesInFlight--;
			return true;
		};
		return {
			answered: () => {
				if (!settle()) return;
				const at = clock.now();
				entry.at = at;
				this.backoffMs = 0;
				if (entry.probe) this.probeWidth = Math.min(MAX_PROBES_IN_FLIGHT, this.probeWidth * 2);
				if (this.learnedLimit === undefined) this.safe = Math.max(this.safe, this.countInWindow(at, true));
				this.pump();
			},
			throttled: (retryAfterMs?: number) => {
				if (!settle()) return Math.max(0, this.pausedUntil - clock.now());
				this.sent = this.sent.filter((other) => other !== entry);
				const wait = this.learnFrom429(retryAfterMs);
				this.pump();
				return wait;
			},
			unanswered: () => {
				if (!settle()) return;
				entry.at = clock.now();
				this.pump();
			},
		};
	}

	private learnFrom429(retryAfterMs: number | undefined): number {
		const now = clock.now();
		this.backoffMs =
			retryAfterMs !== undefined
				? Math.min(Math.max(retryAfterMs, MIN_RETRY_AFTER_MS), 5 * MAX_BACKOFF_MS)
				: Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, this.backoffMs * 2));
		this.pausedUntil = Math.max(this.pausedUntil, now + this.backoffMs);
		this.probeWidth = 1;
		if (this.budget.planPerMinute <= 0) {
			// Bria accepted this many in its window: that is the limit (or what others left us).
			const accepted = Math.max(SLOWEST_PLAN_PER_MINUTE, this.countInWindow(now, true));
			if (this.liftedCeiling !== undefined && accepted <= this.liftedCeiling) {
				this.quietWindows = Math.min(MAX_QUIET_WINDOWS, this.quietWindows * 2);
			}
			this.liftedCeiling = undefined;
			this.learnedLimit = this.learnedLimit === undefined ? accepted : Math.min(this.learnedLimit, accepted);
			this.safe = Math.min(this.safe, this.learnedLimit);
		}
		this.last429At = now;
		return this.pausedUntil - now;
	}

	/** A window (or a few) without a 429: probe above the learned limit again. */
	private liftCeilingIfQuiet(now: number): void {
		if (this.learnedLimit === undefined || now - this.last429At < this.quietWindows * WINDOW_MS) return;
		this.safe = Math.max(this.safe, this.learnedLimit);
		this.liftedCeiling = this.learnedLimit;
		this.learnedLimit = undefined;
	}

	/** Earliest time from `now` at which `party` may send on this lane, ignoring other waiters. */
	private roomAt(now: number, party: Party): number {
		this.liftCeilingIfQuiet(now);
		let at = Math.max(now, this.pausedUntil);
		const limit = this.limitPerWindow();
		if (limit !== undefined) at = Math.max(at, this.slotAt(at, limit, this.sent));
		else if (this.countInWindow(at) >= this.safe && this.probesInFlight >= this.probeWidth) return Infinity;
		if (party.capPerMinute > 0) {
			at = Math.max(at, this.slotAt(at, party.capPerMinute, this.sent.filter((entry) => entry.party === party)));
		}
		return at;
	}

	/** Earliest time ≥ `from` at which fewer than `limit` of `entries` lie in the window. */
	private slotAt(from: number, limit: number, entries: Sent[]): number {
		// A request still in flight counts from when it will be answered: at least `from`.
		const times = entries
			.map((entry) => (entry.inFlight ? Math.max(entry.at, from) : entry.at))
			.filter((at) => at > from - WINDOW_MS - WINDOW_MARGIN_MS)
			.sort((a, b) => a - b);
		if (times.length < limit) return from;
		return times[times.length - limit] + WINDOW_MS + WINDOW_MARGIN_MS;
	}

	private countInWindow(now: number, acceptedOnly = false): number {
		return this.sent.filter((entry) => (entry.inFlight ? !acceptedOnly : entry.at > now - WINDOW_MS)).length;
	}

	private forgetOld(now: number): void {
		if (this.sent.some((entry) => !entry.inFlight && entry.at <= now - WINDOW_MS - WINDOW_MARGIN_MS)) {
			this.sent = this.sent.filter((entry) => entry.inFlight || entry.at > now - WINDOW_MS - WINDOW_MARGIN_MS);
		}
	}
}
