import { isUsableModel } from '../../../../../nodes/BriaTailored/methods/listSearch';
import { defaultModels } from '../../../../simulator/BriaSimulator';
import type { SimModel } from '../../../../simulator/BriaSimulator';
import { TOKEN, useSimulator, visibleText } from '../../../../harness/fixtures';
import { runBriaNode } from '../../../../harness/runNode';

const bria = useSimulator();

const getMany = (extra: Record<string, unknown> = {}) => ({ resource: 'model', operation: 'getAll', ...extra });
const ids = (items: Array<{ json: { id?: unknown } }>) => items.map((item) => item.json.id);

describe('Model → Get Many', () => {
	test('one item per usable model, with Bria\'s fields exactly as listed, in Bria\'s order, paired with the input item', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, parameters: getMany() });
		expect(result.error).toBeUndefined();
		const usable = defaultModels().filter(isUsableModel);
		expect(result.items.map((item) => item.json)).toEqual(usable);
		expect(result.items.every((item) => JSON.stringify(item.pairedItem) === JSON.stringify({ item: 0 }))).toBe(true);
		// Bria's own field names and types: integer id, training_version, dates.
		expect(result.items[0].json).toEqual({
			id: 101,
			name: 'Brand Product Shots',
			description: 'Packshots in brand style',
			status: 'Completed',
			training_mode: 'fully_automated',
			training_version: 'fibo',
			project_id: 11,
			dataset_id: 21,
			created_at: '2025-09-01T10:00:00Z',
		});
		const [request] = bria.sim.requests('models');
		expect(request.headers.api_token).toBe(TOKEN);
		expect(visibleText(result)).not.toContain(TOKEN);
	});

	test('Only Usable (default on) drops failed, unfinished and non-FIBO models and keeps a Completed one without training_version; off returns every model', async () => {
		const on = await runBriaNode({ credentials: bria.credentials, parameters: getMany({ returnAll: true }) });
		// 103 Completed bria-2.3, 104 InProgress, 105 Failed fibo: out. 106 Completed, no training_version: in.
		expect(ids(on.items)).toEqual([101, 102, 106]);
		expect(on.items.find((item) => item.json.id === 106)?.json).not.toHaveProperty('training_version');

		const off = await runBriaNode({ credentials: bria.credentials, parameters: getMany({ returnAll: true, options: { onlyUsable: false } }) });
		expect(ids(off.items)).toEqual([101, 102, 103, 104, 105, 106]);
		expect(off.items.map((item) => item.json)).toEqual(defaultModels());
	});

	test('Limit (default 50) caps the items after the filter; Return All ignores it; a limit from an expression may be text', async () => {
		const many: SimModel[] = Array.from({ length: 60 }, (_, index) => ({ id: 1000 + index, name: `Model ${index}`, status: 'Completed', training_version: 'fibo' }));
		const saved = bria.sim.options.models;
		bria.sim.options.models = [{ id: 1, name: 'Failed first', status: 'Failed', training_version: 'fibo' }, ...many];
		try {
			const byDefault = await runBriaNode({ credentials: bria.credentials, parameters: getMany() });
			expect(byDefault.items).toHaveLength(50);
			expect(byDefault.items[0].json.id).toBe(1000);
			const two = await runBriaNode({ credentials: bria.credentials, parameters: getMany({ limit: 2 }) });
			expect(ids(two.items)).toEqual([1000, 1001]);
			const all = await runBriaNode({ credentials: bria.credentials, parameters: getMany({ returnAll: true, limit: 2 }) });
			expect(all.items).toHaveLength(60);
			const fromText = await runBriaNode({
				credentials: bria.credentials,
				items: [{ json: { n: '3' } }],
				parameters: getMany({ limit: '={{ $json.n }}' }),
			});
			expect(ids(fromText.items)).toEqual([1000, 1001, 1002]);
		} finally {
			bria.sim.options.models = saved;
		}
	});

	test('a limit that is no whole number of 1 or more fails naming Limit, and nothing is sent', async () => {
		for (const limit of ['={{ 0 }}', '={{ 2.5 }}', '={{ "ten" }}']) {
			const result = await runBriaNode({ credentials: bria.credentials, parameters: getMany({ limit }) });
			expect(result.error?.message).toMatch(/^Invalid input: Limit: must be (1 or more|a whole number)$/);
		}
		expect(bria.sim.log).toHaveLength(0);
	});

	test('runs once per input item (n8n\'s convention), each model paired with its input item', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, items: [{ json: {} }, { json: {} }], parameters: getMany({ limit: 2 }) });
		expect(result.items.map((item) => [item.json.id, item.pairedItem])).toEqual([
			[101, { item: 0 }],
			[102, { item: 0 }],
			[101, { item: 1 }],
			[102, { item: 1 }],
		]);
		expect(bria.sim.requests('models')).toHaveLength(2);
	});

	test('a 429 is retried after Retry-After on the model-list lane, then the list arrives', async () => {
		bria.sim.inject('models', { kind: 'respond', status: 429, headers: { 'Retry-After': '1' }, body: { error: { code: 429, message: 'Too Many Requests', details: 'slow down' } } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: getMany() });
		expect(result.error).toBeUndefined();
		expect(ids(result.items)).toEqual([101, 102, 106]);
		const [throttled, answered] = bria.sim.requests('models');
		expect([throttled.status, answered.status]).toEqual([429, 200]);
		expect(answered.at - throttled.at).toBeGreaterThanOrEqual(900);
	});

	test('a 429 whose Retry-After lies past the node\'s patience fails at once with Bria\'s rate-limit error', async () => {
		bria.sim.inject('models', { kind: 'respond', status: 429, headers: { 'Retry-After': '120' }, body: { error: { code: 429, message: 'Too Many Requests', details: 'slow down' } } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: getMany() });
		expect(result.error?.message).toBe('Bria\'s rate limit was reached (listing tailored models, HTTP 429)');
		expect(result.durationMs).toBeLessThan(5_000);
		expect(bria.sim.requests('models')).toHaveLength(1);
	});

	test('Continue On Fail: a failed item is an error item in its place, the other items still list', async () => {
		bria.sim.inject('models', { kind: 'respond', status: 500, body: { error: { code: 500, message: 'Internal Server Error', details: 'database away' } } });
		const result = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, items: [{ json: {} }, { json: {} }], parameters: getMany({ limit: 1 }) });
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(2);
		expect(result.items[0]).toEqual({
			json: { error: 'Bria had a server error (listing tailored models, HTTP 500)', description: expect.stringContaining('database away') },
			pairedItem: { item: 0 },
		});
		expect(result.items[1]).toMatchObject({ json: { id: 101 }, pairedItem: { item: 1 } });
	});

	test('without Continue On Fail the failure stops the node with Bria\'s answer; a bad token is a credential problem', async () => {
		const result = await runBriaNode({ credentials: { ...bria.credentials, apiToken: 'wrong-token' }, parameters: getMany() });
		expect(result.items).toEqual([]);
		expect(result.error?.message).toBe('Bria did not accept the API token: check the Bria API credential (listing tailored models, HTTP 401)');
		expect(result.error?.httpCode).toBe('401');
	});
});
