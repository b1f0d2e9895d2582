import { CancelledError, onAbort } from '../transport';
import { Queue } from './heap';

/*
 * At most `size` holders at once. Bounds the result downloads of the whole process, so memory
 * stays flat however many jobs finish together. Waiting owners (node runs of executions) take
 * turns, as they do for the rate budget's turns (docs/SCHEDULER.md, rule 3): a form's one download
 * goes next, not behind a batch's queue of them. Within an owner, first come first served.
 */
interface Waiter {
	grant: () => void;
	/** Cancelled while waiting: skipped when its turn comes. */
	left: boolean;
}

export class Slots {
	private free: number;

	/** Each waiting owner's queue. */
	private readonly waiting = new Map<string, Queue<Waiter>>();

	/** Owners with a queue, in turn order (each at most once). */
	private readonly round = new Queue<string>();

	private anonymous = 0;

	constructor(size: number) {
		this.free = size;
	}

	/** Runs `work` in a slot, in `owner`'s turn; a cancelled wait rejects at once with CancelledError. */
	async run<T>(work: () => Promise<T>, signal?: AbortSignal, owner = `anonymous-${this.anonymous++}`): Promise<T> {
		await this.take(owner, signal);
		try {
			return await work();
		} finally {
			this.handOn();
		}
	}

	/** The freed slot goes to the owner whose turn it is, who then goes to the back of the round. */
	private handOn(): void {
		for (let owner = this.round.shift(); owner !== undefined; owner = this.round.shift()) {
			const queue = this.waiting.get(owner)!;
			let next = queue.shift();
			while (next?.left) next = queue.shift();
			if (queue.length) this.round.push(owner);
			else this.waiting.delete(owner);
			if (next) return next.grant();
		}
		this.free++;
	}

	private async take(owner: string, signal?: AbortSignal): Promise<void> {
		if (signal?.aborted) throw new CancelledError();
		if (this.free > 0) {
			this.free--;
			return;
		}
		await new Promise<void>((resolve, reject) => {
			const waiter: Waiter = { grant: () => undefined, left: false };
			const detach = signal
				? onAbort(signal, () => {
						waiter.left = true;
						reject(new CancelledError());
					})
				: () => undefined;
			waiter.grant = () => {
				detach();
				resolve();
			};
			let queue = this.waiting.get(owner);
			if (!queue) {
				queue = new Queue();
				this.waiting.set(owner, queue);
				this.round.push(owner);
			}
			queue.push(waiter);
		});
	}
}
