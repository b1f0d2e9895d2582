import { isUsableModel } from '../../../../nodes/BriaTailored/methods/listSearch';
import { TOKEN, useSimulator } from '../../../harness/fixtures';
import { searchModels } from '../../../harness/runNode';

const bria = useSimulator();

describe('model picker (listSearch.searchModels)', () => {
	test('lists only completed FIBO models (or models Bria does not label), by name, as string IDs', async () => {
		const { results } = await searchModels(bria.credentials);
		const usable = bria.sim.options.models.filter(isUsableModel);
		expect(usable.length).toBeGreaterThan(0);
		expect(results.map((result) => result.value).sort()).toEqual(usable.map((model) => String(model.id)).sort());
		expect(results.map((result) => result.name)).toEqual([...results.map((result) => result.name)].sort((a, b) => a.localeCompare(b)));
		const request = bria.sim.requests('models')[0];
		expect(request.headers.api_token).toBe(TOKEN);
	});

	test('filters by name or ID, case-insensitively', async () => {
		const [model] = bria.sim.options.models.filter(isUsableModel);
		const byName = await searchModels(bria.credentials, model.name.toUpperCase());
		expect(byName.results.map((result) => result.value)).toContain(String(model.id));
		const byId = await searchModels(bria.credentials, String(model.id));
		expect(byId.results.map((result) => result.value)).toEqual([String(model.id)]);
	});

	test('legacy, unfinished and failed models are never offered', () => {
		expect(isUsableModel({ id: 1, status: 'Completed', training_version: 'bria-2.3' })).toBe(false);
		expect(isUsableModel({ id: 2, status: 'InProgress', training_version: 'fibo' })).toBe(false);
		expect(isUsableModel({ id: 3, status: 'Failed' })).toBe(false);
		expect(isUsableModel({ id: 4, status: 'Completed', training_version: 'fibo' })).toBe(true);
		expect(isUsableModel({ id: 5, status: 'Completed' })).toBe(true);
	});

	test('a bad token is reported as a credential problem', async () => {
		await expect(searchModels({ ...bria.credentials, apiToken: 'wrong' })).rejects.toThrow(/did not accept the API token/);
	});
});
