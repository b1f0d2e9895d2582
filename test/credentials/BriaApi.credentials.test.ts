import { Workflow } from 'n8n-workflow';
import type { INodeTypes } from 'n8n-workflow';

import { BriaApi } from '../../credentials/BriaApi.credentials';
import { TOKEN, useSimulator } from '../harness/fixtures';

const bria = useSimulator();
const credential = new BriaApi();

/** Resolves a credential expression with n8n's own expression engine, as n8n does for credentials. */
function resolve(value: string, credentials: Record<string, string>): unknown {
	const workflow = new Workflow({ nodes: [], connections: {}, active: false, nodeTypes: {} as INodeTypes });
	return workflow.expression.getParameterValue(value, null, 0, 0, '', [], 'internal', { $credentials: credentials });
}

describe('Bria API credential', () => {
	test('sends the raw token in a header literally named api_token', () => {
		expect(credential.authenticate).toEqual({ type: 'generic', properties: { headers: { api_token: '={{$credentials.apiToken}}' } } });
		expect(resolve(String(credential.authenticate.properties.headers?.api_token), { apiToken: TOKEN })).toBe(TOKEN);
	});

	test('the token field is a required password field; the base URL defaults to Bria\'s engine', () => {
		const token = credential.properties.find((property) => property.name === 'apiToken');
		expect(token).toMatchObject({ type: 'string', required: true, typeOptions: { password: true } });
		const baseUrl = credential.properties.find((property) => property.name === 'baseUrl');
		expect(baseUrl?.default).toBe('https://engine.prod.bria-api.com');
	});

	test('the credential test is a cheap authenticated GET of the model list at the base URL', async () => {
		const { request } = credential.test;
		const baseURL = String(resolve(String(request.baseURL), { baseUrl: `${bria.sim.baseUrl}/` }));
		expect(baseURL).toBe(bria.sim.baseUrl);
		const url = `${baseURL}${request.url}`;
		const good = await fetch(url, { method: request.method, headers: { api_token: TOKEN } });
		expect(good.status).toBe(200);
		const bad = await fetch(url, { method: request.method, headers: { api_token: 'wrong' } });
		expect(bad.status).toBe(401);
		expect(bria.sim.requests('models')).toHaveLength(2);
	});
});
