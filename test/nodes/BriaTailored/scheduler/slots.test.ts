import { CancelledError } from '../../../../nodes/BriaTailored/transport';
import { Slots } from '../../../../nodes/BriaTailored/scheduler/slots';

/** Holds a slot until released; records the order work started in. */
function holder(slots: Slots, owner: string, started: string[], name: string, signal?: AbortSignal) {
	let release!: () => void;
	const done = slots.run(
		async () => {
			started.push(name);
			await new Promise<void>((resolve) => (release = resolve));
		},
		signal,
		owner,
	);
	return { done, release: () => release() };
}

describe('download slots', () => {
	test('at most `size` at once; the rest wait', async () => {
		const slots = new Slots(2);
		const started: string[] = [];
		const held = ['a', 'b', 'c'].map((name) => holder(slots, 'batch', started, name));
		await Promise.resolve();
		expect(started).toEqual(['a', 'b']);
		held[0].release();
		await held[0].done;
		await new Promise((resolve) => setImmediate(resolve));
		expect(started).toEqual(['a', 'b', 'c']);
		held[1].release();
		held[2].release();
		await Promise.all(held.map((h) => h.done));
	});

	test('waiting owners take turns: a single execution\'s download waits one round, not behind a batch\'s queue (review: 7 s behind 48 downloads)', async () => {
		const slots = new Slots(1);
		const started: string[] = [];
		const batch = Array.from({ length: 5 }, (_, i) => holder(slots, 'batch', started, `batch-${i}`));
		const single = holder(slots, 'form', started, 'form');
		const byName = new Map<string, ReturnType<typeof holder>>([...batch.map((h, i) => [`batch-${i}`, h] as const), ['form', single] as const]);
		// Release whatever holds the slot, one at a time, until all ran.
		for (let ran = 0; ran < byName.size; ran++) {
			await new Promise((resolve) => setImmediate(resolve));
			byName.get(started[ran])!.release();
		}
		await Promise.all([...byName.values()].map((h) => h.done));
		// One round: the batch (waiting first) takes its turn, then the form; not behind all five.
		expect(started).toEqual(['batch-0', 'batch-1', 'form', 'batch-2', 'batch-3', 'batch-4']);
	});

	test('a cancelled wait leaves at once; the others keep their places', async () => {
		const slots = new Slots(1);
		const started: string[] = [];
		const first = holder(slots, 'a', started, 'first');
		const controller = new AbortController();
		const cancelled = holder(slots, 'b', started, 'cancelled', controller.signal);
		const last = holder(slots, 'c', started, 'last');
		controller.abort();
		await expect(cancelled.done).rejects.toBeInstanceOf(CancelledError);
		first.release();
		await first.done;
		await new Promise((resolve) => setImmediate(resolve));
		expect(started).toEqual(['first', 'last']);
		last.release();
		await last.done;
	});
});
