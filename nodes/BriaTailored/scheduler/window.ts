import { Queue } from './heap';

/** Bria counts requests in a sliding window of one minute. */
export const WINDOW_MS = 60_000;
/** Past Bria's window edge before a request stops counting (its clock and our timers are not exact). */
const WINDOW_MARGIN_MS = 250;

/*
 * The requests of one lane (or one party on a lane) that Bria may count now: those in flight
 * (counted as now) and those answered within the last window (counted from their answer, the
 * latest moment Bria can have seen them). Answer times arrive in order, so the oldest is always
 * at the head: how many are counted, and when the next slot frees, are O(1) (amortized).
 */
export class SlidingWindow {
	inFlight = 0;

	private readonly answeredAt = new Queue<number>();

	sent(): void {
		this.inFlight++;
	}

	/** Bria answered (or may have counted it without answering): it counts until `at` + a window. */
	answered(at: number): void {
		this.inFlight--;
		this.answeredAt.push(at);
	}

	/** Bria did not count it (429). */
	dropped(): void {
		this.inFlight--;
	}

	/** Requests answered within the window: what Bria has accepted. */
	accepted(now: number): number {
		this.forget(now);
		return this.answeredAt.length;
	}

	count(now: number): number {
		return this.inFlight + this.accepted(now);
	}

	/** Earliest time ≥ now at which fewer than `limit` are counted; Infinity until an answer comes. */
	roomAt(now: number, limit: number): number {
		const counted = this.count(now);
		if (counted < limit) return now;
		if (this.inFlight >= limit) return Infinity;
		// The (counted − limit + 1)-th oldest answer has to leave the window.
		return this.answeredAt.at(counted - limit)! + WINDOW_MS + WINDOW_MARGIN_MS;
	}

	private forget(now: number): void {
		for (let oldest = this.answeredAt.peek(); oldest !== undefined && oldest + WINDOW_MS + WINDOW_MARGIN_MS <= now; oldest = this.answeredAt.peek()) {
			this.answeredAt.shift();
		}
	}
}
