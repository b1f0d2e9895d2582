import { Pacer } from '../../../../nodes/BriaTailored/scheduler/Pacer';

/** When each acquire resolves, in fake-clock milliseconds. */
async function turnTimes(pacer: Pacer, lane: 'submit' | 'status', count: number): Promise<number[]> {
	const times: number[] = [];
	const turns = Array.from({ length: count }, async () => {
		await pacer.acquire(lane);
		times.push(Date.now());
	});
	await jest.advanceTimersByTimeAsync(600_000);
	await Promise.all(turns);
	return times;
}

describe('Pacer', () => {
	beforeEach(() => jest.useFakeTimers({ now: 0 }));
	afterEach(() => jest.useRealTimers());

	test('without a cap or a 429, every request goes at once', async () => {
		expect(await turnTimes(new Pacer(0), 'status', 5)).toEqual([0, 0, 0, 0, 0]);
	});

	test('a requests-per-minute cap spaces all requests of the node evenly, across lanes', async () => {
		const pacer = new Pacer(12);
		const status = turnTimes(pacer, 'status', 2);
		const submit = turnTimes(pacer, 'submit', 2);
		expect([...(await status), ...(await submit)].sort((a, b) => a - b)).toEqual([0, 5_000, 10_000, 15_000]);
	});

	test('a 429 pauses its lane until Retry-After, then keeps to the rate Bria accepted; the other lane is untouched', async () => {
		const pacer = new Pacer(0);
		for (let i = 0; i < 20; i++) pacer.succeeded('status');
		expect(pacer.throttled('status', 3_000)).toBe(3_000);
		const submit = turnTimes(pacer, 'submit', 2);
		const status = turnTimes(pacer, 'status', 3);
		expect(await submit).toEqual([0, 0]);
		// 20 accepted in the last minute → one every 3 s, plus a 5 % margin.
		expect(await status).toEqual([3_000, 6_150, 9_300]);
	});

	test('without Retry-After the pause grows 2, 4, 8 s; the learned rate never drops below Bria\'s smallest plan', async () => {
		const pacer = new Pacer(0);
		expect(pacer.throttled('submit')).toBe(2_000);
		expect(pacer.throttled('submit')).toBe(4_000);
		expect(pacer.throttled('submit')).toBe(8_000);
		// Nothing was accepted, yet the spacing is 10 per minute (6 s + 5 %), not one a minute.
		const times = await turnTimes(pacer, 'submit', 2);
		expect(times).toEqual([8_000, 14_300]);
	});

	test('a turn is kept when its timer fires a millisecond before the clock reads the turn', async () => {
		const pacer = new Pacer(0);
		pacer.throttled('submit'); // paused until 2 s; the learned spacing is 6.3 s
		const fakeNow = Date.now.bind(Date);
		let reads = 0;
		// The first read is the caller's; every later one lags 1 ms, as real timers and clocks can.
		const clock = jest.spyOn(Date, 'now').mockImplementation(() => fakeNow() - (reads++ > 0 ? 1 : 0));
		const turn = pacer.acquire('submit', 3_000);
		await jest.advanceTimersByTimeAsync(10_000);
		clock.mockRestore();
		// Before the fix the caller queued behind its own reservation (8.3 s), past the deadline.
		await expect(turn).resolves.toBe(true);
	});

	test('a turn that would come after the deadline is refused at once, without waiting', async () => {
		const pacer = new Pacer(0);
		pacer.throttled('status', 30_000);
		await expect(pacer.acquire('status', 10_000)).resolves.toBe(false);
		expect(Date.now()).toBe(0);
	});
});

