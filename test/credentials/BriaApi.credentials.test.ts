import { ExecuteContext, RoutingNode } from 'n8n-core';
import { createRunExecutionData, NodeHelpers, Workflow } from 'n8n-workflow';
import type { ICredentialDataDecryptedObject, INode, INodeType, INodeTypes } from 'n8n-workflow';

import { BriaApi } from '../../credentials/BriaApi.credentials';
import { TOKEN, useSimulator } from '../harness/fixtures';
import { engineAdditionalData, TestCredentialsHelper } from '../harness/runNode';

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

/*
 * The credential's Test button, the way n8n runs it (CredentialsTester.runRequestTest): a temporary
 * node whose one property routes the credential's test request, run by n8n-core's RoutingNode with
 * the credential's own authenticate definition. Resolves when n8n would say "Connection successful".
 */
async function testCredential(data: Record<string, string>): Promise<void> {
	const credentials = data as unknown as ICredentialDataDecryptedObject;
	const nodeType = {
		description: {
			displayName: 'Temp',
			name: 'temp',
			group: ['transform'],
			version: 1,
			description: '',
			defaults: {},
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: 'briaApi', required: true }],
			properties: [{ displayName: 'Temp', name: 'temp', type: 'string', default: '', routing: { request: credential.test.request } }],
		},
	} as unknown as INodeType;
	const nodeTypes = { getByName: () => nodeType, getByNameAndVersion: () => nodeType, getKnownTypes: () => ({}) } as unknown as INodeTypes;
	const node: INode = {
		id: 'temp',
		name: 'Temp-Node',
		type: 'temp',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
		credentials: { briaApi: { id: 'cred-1', name: 'Bria test' } },
	};
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	const additionalData = engineAdditionalData({ credentialsHelper: new TestCredentialsHelper(credentials, credential) });
	const inputData = { main: [[{ json: {} }]] };
	const context = new ExecuteContext(workflow, node, additionalData, 'internal', createRunExecutionData({}), 0, [], inputData, { node, data: {}, source: null }, []);
	// n8n hands the tester the decrypted credential with its data under `data`.
	await new RoutingNode(context, nodeType, { id: 'cred-1', name: 'Bria test', type: 'briaApi', data: credentials } as never).runNode();
}

describe('Bria API credential: the Test button', () => {
	test('passes with the right token and fails with a wrong one', async () => {
		await expect(testCredential({ apiToken: TOKEN, baseUrl: bria.sim.baseUrl })).resolves.toBeUndefined();
		await expect(testCredential({ apiToken: 'wrong', baseUrl: bria.sim.baseUrl })).rejects.toThrow();
		const [good, ...bad] = bria.sim.requests('models').map((entry) => entry.status);
		expect(good).toBe(200);
		expect(bad.length).toBeGreaterThan(0);
		expect(bad.every((status) => status === 401)).toBe(true);
	});

	test('does not follow a redirect: the token never reaches the host a redirect names', async () => {
		bria.sim.inject('models', { kind: 'respond', status: 302, headers: { Location: `${bria.sim.imageBaseUrl}/collect` } });
		await expect(testCredential({ apiToken: TOKEN, baseUrl: bria.sim.baseUrl })).rejects.toThrow();
		expect(bria.sim.requests().filter((entry) => entry.host === 'images')).toEqual([]);
	});

	test('an empty Base URL means Bria\'s default, as in the node', () => {
		for (const baseUrl of ['', '   ']) {
			expect(resolve(String(credential.test.request.baseURL), { baseUrl })).toBe('https://engine.prod.bria-api.com');
		}
		expect(resolve(String(credential.test.request.baseURL), { baseUrl: 'https://proxy.example.com/' })).toBe('https://proxy.example.com');
	});

	test('a plain http:// Base URL to another machine shows a warning; https and this machine do not', () => {
		const warning = credential.properties.find((property) => property.type === 'notice');
		if (!warning) throw new Error('no warning notice on the credential');
		expect(warning.displayName).toMatch(/unencrypted/);
		const shown = (baseUrl: string) => NodeHelpers.displayParameter({ baseUrl }, warning, null, null);
		const remote = ['http://bria-proxy.internal', 'http://10.0.0.5:8080/', 'http://localhost.evil.com', 'HTTP://bria-proxy.internal', 'Http://10.0.0.5'];
		expect(remote.filter(shown)).toEqual(remote);
		expect(['http://bria-proxy.internal']).toEqual(
			['http://bria-proxy.internal'].filter(shown),
		);
		expect(['https://engine.prod.bria-api.com', 'http://127.0.0.1:4010', 'http://localhost:8080/', 'http://[::1]:9000', 'HTTP://LOCALHOST:8080'].filter(shown)).toEqual([]);
	});
});

