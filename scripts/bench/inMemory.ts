/**
 * The node with the network taken out: `BriaTailored.execute` runs in n8n-core's real
 * ExecuteContext (the context n8n's engine hands a node: parameter resolution with expressions,
 * credentials, continueOnFail, prepareBinaryData into n8n's binary-data service), but its two
 * request helpers answer from memory like Bria, with no socket and no timer. Everything the
 * node does itself stays real: validation, the scheduler and its poll waits, the pacer, output
 * building.
 */
import { setMaxListeners } from 'node:events';

import { Container } from '@n8n/di';
import { BinaryDataService, ExecuteContext } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialsHelper,
	IHttpRequestOptions,
	INodeExecutionData,
	INodeParameters,
} from 'n8n-workflow';
import { createRunExecutionData, Workflow } from 'n8n-workflow';

import { BriaTailored } from '../../nodes/BriaTailored/BriaTailored.node';
import { briaNode, engineAdditionalData, nodeTypes } from '../../test/harness/runNode';
import { encodePng, fiboStructuredPrompt } from '../../test/simulator/BriaSimulator';

const BASE_URL = 'https://engine.bria.invalid';
const IMAGE_BASE_URL = 'https://images.bria.invalid';

/** Requests the responders answered, by kind: the run checks the node made exactly these. */
export interface InMemoryCounts {
	submit: number;
	status: number;
	image: number;
}

export interface InMemoryRun {
	items: INodeExecutionData[];
	counts: InMemoryCounts;
}

type Response = { statusCode: number; headers: Record<string, string>; body: unknown };

// Built once: answers must cost the measurement as little as possible, as their CPU is counted.
const STRUCTURED_PROMPT = JSON.stringify(fiboStructuredPrompt('a ceramic coffee mug on a wooden table, morning light', 1234));
const PNG = encodePng(64, 64, [200, 120, 60]);
const JSON_HEADERS = { 'content-type': 'application/json' };
const PNG_HEADERS = { 'content-type': 'image/png', 'content-length': String(PNG.length) };


/** Hands out the credential; authentication itself is never asked for, as the request helpers are replaced. */
const credentialsHelper = {
	getDecrypted: async () => ({ apiToken: 'in-memory-token', baseUrl: BASE_URL }) as ICredentialDataDecryptedObject,
	getParentTypes: () => [],
} as unknown as ICredentialsHelper;

let binaryReady: Promise<void> | undefined;
let executions = 0;

/** Bria's side of the conversation, from memory: submit → 202, status → COMPLETED, image → PNG. */
function responders(counts: InMemoryCounts) {
	const statusPath = `${BASE_URL}/v2/status/`;
	const httpRequestWithAuthentication = async (_credentialType: string, options: IHttpRequestOptions): Promise<Response> => {
		if (options.method === 'POST' && options.url === `${BASE_URL}/v2/image/generate/tailored`) {
			const requestId = `mem-${++counts.submit}`;
			return { statusCode: 202, headers: JSON_HEADERS, body: { request_id: requestId, status_url: `${statusPath}${requestId}` } };
		}
		if (options.method === 'GET' && options.url.startsWith(statusPath)) {
			counts.status++;
			const requestId = options.url.slice(statusPath.length);
			return {
				statusCode: 200,
				headers: JSON_HEADERS,
				body: {
					status: 'COMPLETED',
					request_id: requestId,
					result: { image_url: `${IMAGE_BASE_URL}/results/${requestId}.png`, seed: 1234, structured_prompt: STRUCTURED_PROMPT },
				},
			};
		}
		return { statusCode: 404, headers: JSON_HEADERS, body: { error: { message: `no route ${options.method ?? 'GET'} ${options.url}` } } };
	};
	const httpRequest = async (options: IHttpRequestOptions): Promise<Response> => {
		if (!options.url.startsWith(`${IMAGE_BASE_URL}/results/`)) return { statusCode: 404, headers: JSON_HEADERS, body: Buffer.alloc(0) };
		counts.image++;
		// The same bytes every time: nothing downstream writes to the buffer.
		return { statusCode: 200, headers: PNG_HEADERS, body: PNG };
	};
	return { httpRequestWithAuthentication, httpRequest };
}

/** Runs the node's execute once over `items` with in-memory HTTP; resolves with its output and the requests it made. */
export async function runInMemory(parameters: INodeParameters, items: INodeExecutionData[]): Promise<InMemoryRun> {
	// n8n's binary-data service must be up for prepareBinaryData (init is idempotent).
	binaryReady ??= Container.get(BinaryDataService).init();
	await binaryReady;
	const node = briaNode(parameters, true);
	const workflow = new Workflow({ id: 'bria-bench', nodes: [node], connections: {}, nodeTypes, active: false, settings: {} });
	// Each run its own execution, so binary files land in their own folder as in n8n.
	const additionalData = engineAdditionalData({ credentialsHelper, executionId: `bench-cpu-${++executions}` });
	const inputData = { main: [items] };
	// The engine always passes a cancel signal (the scheduler and pacer listen to it), uncapped as n8n's WorkflowExecute does.
	const cancel = new AbortController();
	setMaxListeners(Infinity, cancel.signal);
	const context = new ExecuteContext(
		workflow,
		node,
		additionalData,
		'manual',
		createRunExecutionData({}),
		0,
		items,
		inputData,
		{ node, data: inputData, source: null },
		[],
		cancel.signal,
	);
	const counts: InMemoryCounts = { submit: 0, status: 0, image: 0 };
	// helpers is a plain object built by the constructor: only the two network helpers are swapped.
	Object.assign(context.helpers, responders(counts));
	const [output] = await new BriaTailored().execute.call(context);
	return { items: output, counts };
}
