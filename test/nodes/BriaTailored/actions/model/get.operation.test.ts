import { defaultModels } from '../../../../simulator/BriaSimulator';
import { TOKEN, useSimulator, visibleText } from '../../../../harness/fixtures';
import { runBriaNode, searchModels } from '../../../../harness/runNode';
import type { BriaCredential } from '../../../../harness/runNode';

const bria = useSimulator();

const get = (modelId: string) => ({ resource: 'model', operation: 'get', modelId });
const model = (id: number) => defaultModels().find((entry) => entry.id === id);

describe('Model → Get', () => {
	test('a text ID gives that model with Bria\'s fields exactly as they come, paired with the input item', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, parameters: get('103') });
		expect(result.error).toBeUndefined();
		// Any status and training version: Get returns the model, whatever it is.
		expect(result.items).toEqual([{ json: model(103), pairedItem: { item: 0 } }]);
		const [request] = bria.sim.requests('model');
		expect(request.path).toBe('/v1/tailored-gen/models/103');
		expect(request.headers.api_token).toBe(TOKEN);
	});

	test('a number from an expression (Bria\'s lists give integer IDs) works, one model per input item', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: { id: 106 } }, { json: { id: 101 } }],
			parameters: get('={{ $json.id }}'),
		});
		expect(result.error).toBeUndefined();
		expect(result.items).toEqual([
			{ json: model(106), pairedItem: { item: 0 } },
			{ json: model(101), pairedItem: { item: 1 } },
		]);
		expect(bria.sim.requests('model').map((entry) => entry.path)).toEqual(['/v1/tailored-gen/models/106', '/v1/tailored-gen/models/101']);
	});

	test('an ID the organization does not have (404) is a NodeApiError that says so', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, parameters: get('999') });
		expect(result.items).toEqual([]);
		expect(result.error?.message).toBe('The organization has no tailored model with ID 999 (HTTP 404)');
		expect(result.error?.httpCode).toBe('404');
		expect(result.error?.description).toContain('Model → Get Many');
		expect(visibleText(result)).not.toContain(TOKEN);
	});

	test('a blank or malformed ID fails naming Model ID, and nothing is sent', async () => {
		for (const modelId of ['  ', 'a b', '..', '={{ $json.nothing }}', '={{ -5 }}']) {
			const result = await runBriaNode({ credentials: bria.credentials, parameters: get(modelId) });
			expect(result.error?.message).toMatch(/^Invalid input: Model ID: /);
		}
		expect(bria.sim.log).toHaveLength(0);
	});

	test('Continue On Fail: the unknown ID is an error item in its place, between the models found', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			items: [{ json: { id: 101 } }, { json: { id: 999 } }, { json: { id: 102 } }],
			parameters: get('={{ $json.id }}'),
		});
		expect(result.error).toBeUndefined();
		expect(result.items).toEqual([
			{ json: model(101), pairedItem: { item: 0 } },
			{ json: { error: 'The organization has no tailored model with ID 999 (HTTP 404)', description: expect.any(String) }, pairedItem: { item: 1 } },
			{ json: model(102), pairedItem: { item: 2 } },
		]);
	});

	test('Continue (using error output): the unknown ID leaves by the error output', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			onError: 'continueErrorOutput',
			items: [{ json: { id: 999 } }, { json: { id: 102 } }],
			parameters: get('={{ $json.id }}'),
		});
		expect(result.items).toEqual([{ json: model(102), pairedItem: { item: 1 } }]);
		expect(result.errorOutput).toEqual([
			{ json: { error: { message: 'The organization has no tailored model with ID 999 (HTTP 404)', description: expect.any(String) } }, pairedItem: { item: 0 } },
		]);
	});

	test('a 429 is retried after Retry-After, then the model arrives', async () => {
		bria.sim.inject('model', { kind: 'respond', status: 429, headers: { 'Retry-After': '1' }, body: { error: { code: 429, message: 'Too Many Requests', details: '' } } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: get('101') });
		expect(result.error).toBeUndefined();
		expect(result.items).toEqual([{ json: model(101), pairedItem: { item: 0 } }]);
		const [throttled, answered] = bria.sim.requests('model');
		expect([throttled.status, answered.status]).toEqual([429, 200]);
		expect(answered.at - throttled.at).toBeGreaterThanOrEqual(900);
	});

	test('one lane for the picker and the resource: with a plan of 1 request per minute, a Get spends the turn and the picker finds none', async () => {
		// The credential's Requests per Minute is the organization's plan: one model-list request per window.
		const credentials = { ...bria.credentials, requestsPerMinute: 1 } as BriaCredential;
		const result = await runBriaNode({ credentials, parameters: get('101') });
		expect(result.items).toEqual([{ json: model(101), pairedItem: { item: 0 } }]);
		await expect(searchModels(credentials)).rejects.toThrow("Bria's rate limit for the model list leaves no turn within 10 s");
		// The picker sent nothing: Bria never saw a second model-list request in the window.
		expect(bria.sim.requests('model')).toHaveLength(1);
		expect(bria.sim.requests('models')).toHaveLength(0);
	}, 20_000);
});
