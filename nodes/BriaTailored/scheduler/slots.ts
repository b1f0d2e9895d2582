import { CancelledError, onAbort } from '../transport';

/*
 * At most `size` holders at once, the others waiting first come first served. Bounds the result
 * downloads of the whole process, so memory stays flat however many jobs finish together.
 */
export class Slots {
	private free: number;

	private readonly waiting: Array<() => void> = [];

	constructor(size: number) {
		this.free = size;
	}

	/** Runs `work` in a slot; a cancelled wait rejects at once with CancelledError. */
	async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
		await this.take(signal);
		try {
			return await work();
		} finally {
			const next = this.waiting.shift();
			if (next) next();
			else this.free++;
		}
	}

	private async take(signal?: AbortSignal): Promise<void> {
		if (signal?.aborted) throw new CancelledError();
		if (this.free > 0) {
			this.free--;
			return;
		}
		await new Promise<void>((resolve, reject) => {
			const granted = () => {
				detach();
				resolve();
			};
			const detach = signal
				? onAbort(signal, () => {
						const index = this.waiting.indexOf(granted);
						if (index !== -1) this.waiting.splice(index, 1);
						reject(new CancelledError());
					})
				: () => undefined;
			this.waiting.push(granted);
		});
	}
}
