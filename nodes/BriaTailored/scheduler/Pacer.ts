import { pause } from '../transport';

/*
 * Spaces out every request the node sends, shared by all items of one execution. Bria limits
 * requests per organization, per endpoint, per minute, so each endpoint has its own lane:
 * - a requests-per-minute cap (when set) hands out evenly spaced turns across all lanes, so a
 *   Free-plan user (10/min) never meets a 429 at all;
 * - a 429 pauses the whole lane until Retry-After (or an exponential backoff) has passed, and
 *   from then on the lane keeps to the rate Bria accepted over the last minute: one 429 teaches
 *   the node the limit instead of every item finding it again.
 */

export type Lane = 'submit' | 'status';

const MIN_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 60_000;
/** Even `Retry-After: 0` waits a little, so a throttled caller never spins. */
const MIN_RETRY_AFTER_MS = 500;
const WINDOW_MS = 60_000;
/** Bria's smallest plan allows 10 requests a minute per endpoint: never pace slower than that. */
const SLOWEST_PLAN_PER_MINUTE = 10;
const LEARNED_SPACING_MARGIN = 1.05;

interface LaneState {
	nextTurnAt: number;
	pausedUntil: number;
	backoffMs: number;
	/** 0 until a 429: then the spacing that keeps to the rate Bria accepted. */
	learnedSpacingMs: number;
	/** When requests of this lane were accepted, over the last minute. */
	accepted: number[];
}

export class Pacer {
	private readonly capSpacingMs: number;

	private capNextTurnAt = 0;

	private readonly lanes: Record<Lane, LaneState> = { submit: newLane(), status: newLane() };

	constructor(
		requestsPerMinute: number,
		private readonly signal?: AbortSignal,
	) {
		this.capSpacingMs = requestsPerMinute > 0 ? WINDOW_MS / requestsPerMinute : 0;
	}

	/**
	 * Waits for this caller's turn to send one request. Resolves false at once, taking no turn,
	 * when it would have to wait past `deadline`: a long Retry-After (or a tight cap) must not
	 * hold an item past its max wait time.
	 */
	async acquire(lane: Lane, deadline = Infinity): Promise<boolean> {
		const state = this.lanes[lane];
		for (;;) {
			const now = Date.now();
			const at = Math.max(now, state.pausedUntil, state.nextTurnAt, this.capNextTurnAt);
			if (at > now && at > deadline) return false;
			state.nextTurnAt = at + state.learnedSpacingMs;
			this.capNextTurnAt = at + this.capSpacingMs;
			await pause(at - now, this.signal);
			// Only a 429 seen by another item while we slept (a pause past our turn) sends us back.
			// Compared with the turn, not the clock: a timer may fire a millisecond early.
			if (state.pausedUntil <= at) return true;
		}
	}

	/** Records a 429 on `lane`; returns how long the lane now waits. */
	throttled(lane: Lane, retryAfterMs?: number): number {
		const state = this.lanes[lane];
		const now = Date.now();
		state.backoffMs =
			retryAfterMs !== undefined
				? Math.min(Math.max(retryAfterMs, MIN_RETRY_AFTER_MS), 5 * MAX_BACKOFF_MS)
				: Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, state.backoffMs * 2));
		state.pausedUntil = Math.max(state.pausedUntil, now + state.backoffMs);
		const acceptedPerMinute = Math.max(SLOWEST_PLAN_PER_MINUTE, recent(state.accepted, now).length);
		// A little wider than exact, so a turn never lands right on the edge of Bria's window.
		state.learnedSpacingMs = Math.max(state.learnedSpacingMs, (WINDOW_MS / acceptedPerMinute) * LEARNED_SPACING_MARGIN);
		return state.pausedUntil - now;
	}

	/** Records an accepted request on `lane`. */
	succeeded(lane: Lane): void {
		const state = this.lanes[lane];
		state.backoffMs = 0;
		state.accepted = recent(state.accepted, Date.now());
		state.accepted.push(Date.now());
	}
}

function newLane(): LaneState {
	return { nextTurnAt: 0, pausedUntil: 0, backoffMs: 0, learnedSpacingMs: 0, accepted: [] };
}

function recent(times: number[], now: number): number[] {
	const first = times.findIndex((time) => time > now - WINDOW_MS);
	return first === -1 ? [] : first === 0 ? times : times.slice(first);
}
