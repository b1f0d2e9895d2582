/*
 * How long Bria's jobs take, learned in this process per kind of job (endpoint, model and the
 * parameters that change the time, such as steps_num), so status checks go where they pay:
 * - checks plentiful: the first check lands where about a third of such jobs are done, then the
 *   usual 2 s cadence; a job of any length then costs about two checks and is noticed within 2 s;
 * - checks scarce: the first check waits until such jobs have all been seen done, so it is
 *   almost never spent on a job still running.
 * The first-check moment is tracked from a fact the node observes exactly — was the job done at
 * its first check? — moving earlier when it was and later when it was not, until the share of
 * jobs done at the first check settles at FIRST_CHECK_DONE_SHARE.
 */

const FIRST_CHECK_DONE_SHARE = 0.36;
const MIN_FIRST_CHECK_MS = 250;
/** Enough to hold a burst's worth of finishes: the quantile below is taken over all of them. */
const SAMPLES_KEPT = 60;
/** A finish is taken this far into the interval that brackets it: before the middle, since a late first check costs lag, an early one only a check. */
const BRACKET_FINISH_SHARE = 0.375;
/** Share of closely bracketed finishes that `surelyDoneMs` covers. */
const SURELY_DONE_SHARE = 0.9;
const CLOSE_BRACKET_MS = 2_500;
/** A job still running this far past the first check (and 1.5 × it) means durations have moved. */
const SHIFT_MARGIN_MS = 4_000;
const SHIFT_FACTOR = 1.5;
/** At the tracked share (about a third done at the first check), six in a row is a 1-in-400 chance. */
const DONE_IN_A_ROW_SHIFT = 6;

export interface DurationSample {
	/** Last check (ms after the submit was answered) that found the job still running; 0 if none. */
	runningAtMs: number;
	/** The check that found it done. */
	doneAtMs: number;
	/** The first check was placed by `firstCheckMs` (so its outcome says where the quantile is). */
	firstCheckWasLearned: boolean;
	/** The job was done at its first check. */
	doneAtFirstCheck: boolean;
}

interface Learned {
	firstCheckMs: number;
	/** How many first checks placed by `firstCheckMs` have moved it. */
	updates: number;
	/** Consecutive jobs done at their (learned) first check. */
	doneInARow: number;
	/** Halved after a run of jobs done at the first check, not yet re-bracketed. */
	halved?: boolean;
	samples: DurationSample[];
}

export class JobDurations {
	private readonly byKind = new Map<string, Learned>();

	/** Jobs polling a kind not yet learned at the usual cadence, to learn it for all, by kind. */
	private readonly scouts = new Map<string, number>();

	/** Jobs waiting for a kind to be learned (or its scout to end), by kind. */
	private readonly listeners = new Map<string, Set<() => void>>();

	/** Makes the caller a scout of `kind` if it has fewer than `most`; true when it did. Call `scoutDone` after. */
	claimScout(kind: string, most: number): boolean {
		const scouts = this.scouts.get(kind) ?? 0;
		if (scouts >= most) return false;
		this.scouts.set(kind, scouts + 1);
		return true;
	}

	scoutDone(kind: string): void {
		const scouts = (this.scouts.get(kind) ?? 1) - 1;
		if (scouts > 0) this.scouts.set(kind, scouts);
		else this.scouts.delete(kind);
		this.notify(kind);
	}

	/** Calls `listener` once, when `kind` is next learned or its scout ends; returns how to stop listening. */
	onNews(kind: string, listener: () => void): () => void {
		let set = this.listeners.get(kind);
		if (!set) {
			set = new Set();
			this.listeners.set(kind, set);
		}
		set.add(listener);
		return () => {
			set.delete(listener);
			if (!set.size && this.listeners.get(kind) === set) this.listeners.delete(kind);
		};
	}

	private notify(kind: string): void {
		const set = this.listeners.get(kind);
		if (!set) return;
		this.listeners.delete(kind);
		for (const listener of set) listener();
	}

	/** When to check a job of this kind first when checks are plentiful; undefined until learned. */
	firstCheckMs(kind: string): number | undefined {
		return this.byKind.get(kind)?.firstCheckMs;
	}

	/**
	 * When to check first when checks are scarce: just past nearly all such jobs seen (90 %). Taken from
	 * checks that bracket the finish closely; a check delayed by the rate limit only says "done by then".
	 */
	surelyDoneMs(kind: string): number | undefined {
		const learned = this.byKind.get(kind);
		if (!learned) return undefined;
		const bracketed = learned.samples.filter((sample) => sample.runningAtMs > 0 && sample.doneAtMs - sample.runningAtMs <= CLOSE_BRACKET_MS);
		if (!bracketed.length) return Math.min(...learned.samples.map((sample) => sample.doneAtMs));
		// Nearly all of them, not the slowest: one unusual job must not delay every later first check.
		const done = bracketed.map((sample) => sample.doneAtMs).sort((a, b) => a - b);
		return done[Math.ceil(SURELY_DONE_SHARE * (done.length - 1))];
	}

	/** FIRST_CHECK_DONE_SHARE of the closely bracketed finishes lie before it (each taken BRACKET_FINISH_SHARE into its bracket); undefined under two. */
	private bracketedQuantile(learned: Learned): number | undefined {
		const finishes = learned.samples
			.filter((sample) => sample.runningAtMs > 0 && sample.doneAtMs - sample.runningAtMs <= CLOSE_BRACKET_MS)
			.map((sample) => sample.runningAtMs + BRACKET_FINISH_SHARE * (sample.doneAtMs - sample.runningAtMs))
			.sort((a, b) => a - b);
		if (finishes.length < 2) return undefined;
		return Math.max(MIN_FIRST_CHECK_MS, finishes[Math.floor(FIRST_CHECK_DONE_SHARE * (finishes.length - 1))]);
	}

	/** The longest time any job (of any kind) took to be seen done; undefined before the first. */
	slowestSeenMs(): number | undefined {
		let slowest: number | undefined;
		for (const kind of this.byKind.keys()) {
			const done = this.surelyDoneMs(kind);
			if (done !== undefined && (slowest === undefined || done > slowest)) slowest = done;
		}
		return slowest;
	}

	learn(kind: string, sample: DurationSample): void {
		this.track(kind, sample);
		this.notify(kind);
	}

	private track(kind: string, sample: DurationSample): void {
		// One job tells little: start a quarter into the interval where it finished, then track.
		const seed = Math.max(MIN_FIRST_CHECK_MS, sample.runningAtMs + 0.25 * (sample.doneAtMs - sample.runningAtMs));
		const learned = this.byKind.get(kind);
		if (!learned) {
			this.byKind.set(kind, { firstCheckMs: seed, updates: 0, doneInARow: 0, samples: [sample] });
			return;
		}
		learned.samples.push(sample);
		if (learned.samples.length > SAMPLES_KEPT) learned.samples.shift();
		// Durations moved (a heavier model version, a busier Bria): a job still running far past
		// the first check starts the tracking afresh from it; a long run of jobs all done at the
		// first check halves it, since the tracker's settled steps would take ages to get there.
		if (sample.runningAtMs > Math.max(learned.firstCheckMs + SHIFT_MARGIN_MS, SHIFT_FACTOR * learned.firstCheckMs)) {
			Object.assign(learned, { firstCheckMs: seed, updates: 0, doneInARow: 0, halved: false });
			return;
		}
		if (!sample.firstCheckWasLearned) {
			// Until first checks placed by it can track it, take the moment from the finishes seen:
			// where the tracked share of the closely bracketed ones lie.
			if (learned.updates === 0 && !learned.halved) learned.firstCheckMs = this.bracketedQuantile(learned) ?? learned.firstCheckMs;
			return;
		}
		learned.doneInARow = sample.doneAtFirstCheck ? learned.doneInARow + 1 : 0;
		if (learned.doneInARow >= DONE_IN_A_ROW_SHIFT) {
			Object.assign(learned, { firstCheckMs: Math.max(MIN_FIRST_CHECK_MS, learned.firstCheckMs / 2), updates: 0, doneInARow: 0, halved: true });
			return;
		}
		// After halving, the first job still running brackets the new durations: start from it.
		if (learned.halved && !sample.doneAtFirstCheck) {
			Object.assign(learned, { firstCheckMs: seed, updates: 0, halved: false });
			return;
		}
		// Big steps while little is known, down to about 0.4 % of the duration once settled.
		learned.updates++;
		const step = (50 + 0.02 * learned.firstCheckMs) * Math.max(0.2, 1 / Math.sqrt(1 + learned.updates / 3));
		const move = sample.doneAtFirstCheck ? -(1 - FIRST_CHECK_DONE_SHARE) * step : FIRST_CHECK_DONE_SHARE * step;
		learned.firstCheckMs = Math.max(MIN_FIRST_CHECK_MS, learned.firstCheckMs + move);
	}
}
