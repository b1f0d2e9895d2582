import { CADENCE_MS } from './cadence';

/*
 * How long Bria's jobs take, learned in this process per kind of job (endpoint, model, steps), so a
 * job's first check goes where it pays (docs/SCHEDULER.md, rules 7 and 8). Each finished job gives
 * one finish estimate: the last check that saw it running and the one that saw it done bracket the
 * finish (a job done at its first check counts as if a check one cadence earlier had seen it
 * running); the finish is taken a third of the way into that bracket, since a check placed too late
 * costs lag and one placed too early costs only a check. The recent estimates give the quantiles.
 */

/** Checks plentiful: the first check goes where this share of such jobs finished (rule 7). */
const FIRST_CHECK_SHARE = 0.38;
/**
 * Rule 7's promise, a finished job noticed within 2 s at p95: the first check goes no later than a
 * cadence after where this share of such jobs may have finished (each finish spread evenly over its
 * bracket). It binds when finishes cluster (a burst's checks fall on one grid).
 */
const EARLY_SHARE = 0.05;
/** Enough to hold a burst's worth of finishes. */
const SAMPLES_KEPT = 60;
/** Where in the bracket between "running" and "done" a finish is taken. */
const BRACKET_SHARE = 0.375;

export interface Finish {
	/** Last check (ms after the submit was answered) that found the job running; undefined if none. */
	runningAtMs?: number;
	/** The check that found it done. */
	doneAtMs: number;
}

interface Kind {
	/** Finish estimates, their brackets' start and the checks that saw them done (ms after the submit was answered), oldest first. */
	finishes: Array<{ estimate: number; from: number; doneAt: number }>;
	/** Where EARLY_SHARE of such jobs may have finished. */
	early: number;
	/** The estimates, sorted: where a share of such jobs finished. */
	estimates: number[];
	/** The checks that saw them done, sorted: by when a share of such jobs were surely done. */
	doneAt: number[];
	/** Jobs of this kind polling at the cadence to learn it for the others (rule 8). */
	scouts: number;
	/** Jobs waiting for news of this kind (learned, or its scout ended). */
	listeners: Set<() => void>;
}

/** Where EARLY_SHARE of the finishes lie, each spread evenly over its bracket (bisection: the share is monotonic). */
function earlyFinish(finishes: Kind['finishes']): number {
	const shareBefore = (at: number) =>
		finishes.reduce((sum, f) => sum + (f.doneAt > f.from ? Math.min(1, Math.max(0, (at - f.from) / (f.doneAt - f.from))) : at >= f.doneAt ? 1 : 0), 0) / finishes.length;
	let low = Math.min(...finishes.map((f) => f.from));
	let high = Math.max(...finishes.map((f) => f.doneAt));
	// To a millisecond: timers are not finer.
	while (high - low > 1) {
		const middle = (low + high) / 2;
		if (shareBefore(middle) < EARLY_SHARE) low = middle;
		else high = middle;
	}
	return high;
}

export class JobDurations {
	private readonly kinds = new Map<string, Kind>();

	private kind(name: string): Kind {
		let kind = this.kinds.get(name);
		if (!kind) {
			kind = { finishes: [], early: 0, estimates: [], doneAt: [], scouts: 0, listeners: new Set() };
			this.kinds.set(name, kind);
		}
		return kind;
	}

	/** Rule 7: when to check a job of this kind first while checks are plentiful; undefined before one finished. */
	firstCheckMs(name: string): number | undefined {
		const typical = this.doneBy(name, FIRST_CHECK_SHARE);
		return typical === undefined ? undefined : Math.min(typical, this.kinds.get(name)!.early + CADENCE_MS);
	}

	/** Rule 8: when to check it first while checks are scarce: by when a check found `share` of them done. */
	surelyDoneMs(name: string, share: number): number | undefined {
		return this.doneBy(name, share, 'surely');
	}

	/**
	 * Where `share` of such jobs finished (ms after the submit was answered), or with `surely`, by when
	 * a check found that share done; undefined before the first.
	 */
	doneBy(name: string, share: number, surely?: 'surely'): number | undefined {
		const kind = this.kinds.get(name);
		const sorted = surely ? kind?.doneAt : kind?.estimates;
		if (!sorted?.length) return undefined;
		return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
	}

	learn(name: string, finish: Finish): void {
		const kind = this.kind(name);
		const bracket = finish.runningAtMs === undefined ? CADENCE_MS : finish.doneAtMs - finish.runningAtMs;
		// A bracket wider than the cadence (a check delayed by the rate limit) says only "done by then".
		const from = Math.max(0, finish.doneAtMs - Math.min(bracket, CADENCE_MS));
		const estimate = from + BRACKET_SHARE * (finish.doneAtMs - from);
		kind.finishes.push({ estimate, from, doneAt: finish.doneAtMs });
		if (kind.finishes.length > SAMPLES_KEPT) kind.finishes.shift();
		kind.estimates = kind.finishes.map((entry) => entry.estimate).sort((a, b) => a - b);
		kind.doneAt = kind.finishes.map((entry) => entry.doneAt).sort((a, b) => a - b);
		kind.early = earlyFinish(kind.finishes);
		this.notify(kind);
	}

	/** Makes the caller the scout of `name` if it has none; true when it did. Call `scoutDone` after. */
	claimScout(name: string): boolean {
		const kind = this.kind(name);
		if (kind.scouts > 0) return false;
		kind.scouts++;
		return true;
	}

	hasScout(name: string): boolean {
		return (this.kinds.get(name)?.scouts ?? 0) > 0;
	}

	scoutDone(name: string): void {
		const kind = this.kind(name);
		kind.scouts = Math.max(0, kind.scouts - 1);
		this.notify(kind);
	}

	/** Calls `listener` once, when `name` is next learned or its scout ends; returns how to stop listening. */
	onNews(name: string, listener: () => void): () => void {
		const listeners = this.kind(name).listeners;
		listeners.add(listener);
		return () => listeners.delete(listener);
	}

	private notify(kind: Kind): void {
		const listeners = [...kind.listeners];
		kind.listeners.clear();
		for (const listener of listeners) listener();
	}
}
