import { pause } from '../transport';

/*
 * Spaces out every request the node sends, shared by all items of one execution:
 * - a requests-per-minute cap (when set) hands out evenly spaced slots, so a Free-plan user
 *   (10/min) never meets a 429 at all;
 * - a 429 pauses everyone until Retry-After (or an exponential backoff) has passed, and widens
 *   the spacing between requests; successes narrow it again.
 */

const MIN_BACKOFF_MS = 2_000;
/** Even `Retry-After: 0` waits a little, so a throttled caller never spins. */
const MIN_RETRY_AFTER_MS = 500;
const MAX_BACKOFF_MS = 60_000;
/** After a 429 without a cap set, requests are spaced at least this far apart, widening on repeats. */
const THROTTLED_SPACING_MS = 1_000;
const MAX_SPACING_MS = 30_000;

export class Pacer {
	private readonly capSpacingMs: number;

	/** Current spacing: the cap's, or wider after 429s. */
	private spacingMs: number;

	private nextSlotAt = 0;

	private pausedUntil = 0;

	private backoffMs = 0;

	constructor(
		requestsPerMinute: number,
		private readonly signal?: AbortSignal,
	) {
		this.capSpacingMs = requestsPerMinute > 0 ? 60_000 / requestsPerMinute : 0;
		this.spacingMs = this.capSpacingMs;
	}

	/**
	 * Waits for this caller's turn to send one request. Resolves false at once, taking no turn,
	 * when it would have to wait past `deadline`: a long Retry-After (or a tight cap) must not
	 * hold an item past its max wait time.
	 */
	async acquire(deadline = Infinity): Promise<boolean> {
		for (;;) {
			const now = Date.now();
			const at = Math.max(now, this.pausedUntil, this.nextSlotAt);
			if (at > now && at > deadline) return false;
			this.nextSlotAt = at + this.spacingMs;
			await pause(at - now, this.signal);
			// A 429 seen by another item while we slept moves everyone back.
			if (this.pausedUntil <= Date.now()) return true;
		}
	}

	/** Records a 429; returns how long everyone now waits. */
	throttled(retryAfterMs?: number): number {
		this.backoffMs =
			retryAfterMs !== undefined
				? Math.min(Math.max(retryAfterMs, MIN_RETRY_AFTER_MS), 5 * MAX_BACKOFF_MS)
				: Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, this.backoffMs * 2));
		this.pausedUntil = Math.max(this.pausedUntil, Date.now() + this.backoffMs);
		this.spacingMs = Math.min(MAX_SPACING_MS, Math.max(this.capSpacingMs, THROTTLED_SPACING_MS, this.spacingMs * 2));
		return this.pausedUntil - Date.now();
	}

	/** Records an accepted request: the backoff resets and the spacing eases back toward the cap. */
	succeeded(): void {
		this.backoffMs = 0;
		if (this.spacingMs > this.capSpacingMs) {
			this.spacingMs = Math.max(this.capSpacingMs, this.spacingMs * 0.9);
			if (this.spacingMs < THROTTLED_SPACING_MS / 4) this.spacingMs = this.capSpacingMs;
		}
	}
}
