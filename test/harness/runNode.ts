import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import { BinaryDataService, ExecutionLifecycleHooks, LoadOptionsContext, SupplyDataContext, WorkflowExecute } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentials,
	ICredentialType,
	IDataObject,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
	INodeListSearchResult,
	INodeParameters,
	INodeType,
	INodeTypes,
	IRun,
	IRunExecutionData,
	IWorkflowExecuteAdditionalData,
	IWorkflowSettings,
	Workflow as WorkflowType,
} from 'n8n-workflow';
import { createDeferredPromise, createRunExecutionData, ICredentialsHelper, NodeConnectionTypes, Workflow } from 'n8n-workflow';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { BriaApi } from '../../credentials/BriaApi.credentials';
import { BriaTailored } from '../../nodes/BriaTailored/BriaTailored.node';

/*
 * Runs the Bria Tailored node inside n8n-core's real execution engine (WorkflowExecute), with
 * n8n's real request helpers, parameter resolution (expressions included), binary data,
 * continueOnFail and cancellation. Only the credential store is ours: it hands out the test
 * credential and applies the credential type's own `authenticate` definition through n8n's
 * expression engine, as n8n does.
 */

export const NODE_TYPE = 'n8n-nodes-bria.briaTailored';
const NODE_NAME = 'Bria Tailored';

export interface BriaCredential {
	apiToken: string;
	baseUrl: string;
}

export interface RunOptions {
	parameters: INodeParameters;
	/** Input items; default one empty item. */
	items?: INodeExecutionData[];
	credentials: BriaCredential;
	continueOnFail?: boolean;
	/** With continueOnFail: which continue mode the node is set to (default continueRegularOutput). */
	onError?: 'continueRegularOutput' | 'continueErrorOutput';
	/** Stops the execution (as the user's Stop button does) after this many ms. */
	cancelAfterMs?: number;
	/**
	 * The workflow's settings as n8n hands them to the node (e.g. `executionTimeout` in seconds).
	 * Like a queue-mode worker, this engine checks the timeout only between nodes: no timer aborts
	 * a node that is waiting.
	 */
	workflowSettings?: IWorkflowSettings;
	/**
	 * n8n's node settings Retry On Fail, Max Tries and Wait Between Tries, as the editor saves them on
	 * the node (`retryOnFail: true, maxTries: 3, waitBetweenTries: 0`). n8n-core reads them itself:
	 * 2 to 5 tries, and a wait of 0 means its default (1 s).
	 */
	retryOnFail?: boolean;
	maxTries?: number;
	waitBetweenTries?: number;
	/** n8n's id of this execution (what `getExecutionId()` returns); default a new one per run, as in n8n. */
	executionId?: string;
	/**
	 * Runs of the node in this one execution, as a loop makes them (default 1): each run gets the same
	 * input and n8n's next run index. The run stops at the first run that fails.
	 */
	nodeRuns?: number;
	/** Makes n8n's binary data store fail with this message (e.g. a full disk), so `prepareBinaryData` throws. */
	binaryStoreFails?: string;
}

/** One run of the node within an execution (see RunOptions.nodeRuns). */
export interface NodeRun {
	items: INodeExecutionData[];
	errorOutput: INodeExecutionData[];
	error?: RunResult['error'];
}

export interface RunResult {
	/** Output items of the Bria node (empty when it failed). */
	items: INodeExecutionData[];
	/** Items n8n routed to the error output (onError continueErrorOutput only). */
	errorOutput: INodeExecutionData[];
	/** The node's error when it failed without continueOnFail. */
	error?: { message: string; description?: string | null; context?: IDataObject; httpCode?: string | null };
	run: IRun;
	durationMs: number;
	/** Every log line n8n's engine printed during the run, for leak checks. */
	logs: string[];
	/** The execution id the node saw. */
	executionId: string;
	/** Every run of the node in this execution, in run-index order (the first is `items`/`error` above). */
	nodeRuns: NodeRun[];
}

export class TestCredentialsHelper extends ICredentialsHelper {
	constructor(
		private readonly credentials: ICredentialDataDecryptedObject,
		private readonly credentialType: ICredentialType,
	) {
		super();
	}

	getParentTypes(): string[] {
		return [];
	}

	/** Applies a generic `authenticate` definition the way n8n's own credentials helper does. */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		_typeName: string,
		requestOptions: IHttpRequestOptions,
		workflow: WorkflowType,
		node: INode,
	): Promise<IHttpRequestOptions> {
		const definition = this.credentialType.authenticate;
		if (!definition || typeof definition === 'function' || definition.type !== 'generic') return requestOptions;
		const resolve = (value: unknown) =>
			workflow.expression.getParameterValue(value as string, null, 0, 0, node.name, [], 'internal', {
				$credentials: credentials,
			});
		const options = { ...requestOptions } as IHttpRequestOptions & Record<string, unknown>;
		for (const [target, values] of Object.entries(definition.properties)) {
			const resolved: IDataObject = {};
			for (const [key, value] of Object.entries(values as IDataObject)) resolved[key] = resolve(value) as string;
			options[target] = { ...((options[target] as IDataObject) ?? {}), ...resolved };
		}
		return options;
	}

	async preAuthentication() {
		return undefined;
	}

	async getCredentials(): Promise<ICredentials> {
		throw new Error('not used by the Bria node');
	}

	async getDecrypted(): Promise<ICredentialDataDecryptedObject> {
		return this.credentials;
	}

	async updateCredentials() {}

	async updateCredentialsOauthTokenData() {}

	getCredentialsProperties() {
		return this.credentialType.properties;
	}
}

export const nodeTypes: INodeTypes = {
	getByName: (type: string) => (type === NODE_TYPE ? (new BriaTailored() as INodeType) : (undefined as unknown as INodeType)),
	getByNameAndVersion: (type: string) =>
		type === NODE_TYPE ? (new BriaTailored() as INodeType) : (undefined as unknown as INodeType),
	getKnownTypes: () => ({}),
} as unknown as INodeTypes;

let binaryReady: Promise<void> | undefined;
/** Numbers each run's execution id: a real n8n gives every execution its own. */
let executions = 0;

/** n8n keeps binary data in its BinaryDataService; "default" mode holds it in memory. */
async function ensureBinaryData(): Promise<void> {
	if (!process.env.N8N_USER_FOLDER) process.env.N8N_USER_FOLDER = mkdtempSync(path.join(tmpdir(), 'bria-n8n-'));
	binaryReady ??= Container.get(BinaryDataService).init();
	await binaryReady;
}

export function briaNode(
	parameters: INodeParameters,
	continueOnFail = false,
	onError: 'continueRegularOutput' | 'continueErrorOutput' = 'continueRegularOutput',
	settings: Pick<INode, 'retryOnFail' | 'maxTries' | 'waitBetweenTries'> = {},
): INode {
	return {
		...settings,
		id: 'bria-node',
		name: NODE_NAME,
		type: NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		credentials: { briaApi: { id: 'cred-1', name: 'Bria test' } },
		...(continueOnFail ? { onError } : {}),
	};
}

/** What n8n's engine hands every node besides hooks and credentials: instance URLs, no-op callbacks. */
export function engineAdditionalData(extra: Record<string, unknown>): IWorkflowExecuteAdditionalData {
	return {
		executeWorkflow: async () => ({ data: [], executionId: '' }),
		restApiUrl: 'http://localhost:5678/rest',
		instanceBaseUrl: 'http://localhost:5678/',
		webhookBaseUrl: 'http://localhost:5678/webhook',
		webhookWaitingBaseUrl: 'http://localhost:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://localhost:5678/webhook-test',
		formWaitingBaseUrl: 'http://localhost:5678/form-waiting',
		currentNodeParameters: undefined,
		executionTimeoutTimestamp: undefined,
		userId: 'test-user',
		variables: {},
		setExecutionStatus: () => {},
		sendDataToUI: () => {},
		getRunExecutionData: async () => undefined,
		logAiEvent: () => {},
		...extra,
	} as unknown as IWorkflowExecuteAdditionalData;
}

/** A one-node workflow and the engine's additional data, with the test credential store. */
function engineFor(node: INode, credentials: BriaCredential, settings: IWorkflowSettings = {}, executionId?: string) {
	const workflow = new Workflow({ id: 'bria-test', nodes: [node], connections: {}, nodeTypes, active: false, settings });
	const hooks = new ExecutionLifecycleHooks('manual', executionId ?? 'test-execution', {
		id: 'bria-test',
		name: 'Bria test',
		active: false,
		isArchived: false,
		nodes: [node],
		connections: {},
		settings,
		createdAt: new Date(),
		updatedAt: new Date(),
	} as never);
	const additionalData = engineAdditionalData({
		hooks,
		credentialsHelper: new TestCredentialsHelper(credentials as unknown as ICredentialDataDecryptedObject, new BriaApi()),
		// n8n-core's contexts answer getExecutionId() from here; a real n8n always has one.
		...(executionId ? { executionId } : {}),
	});
	return { workflow, hooks, additionalData };
}

/** Calls the node's model search the way the editor's model picker does (n8n-core's LoadOptionsContext). */
export async function searchModels(credentials: BriaCredential, filter?: string): Promise<INodeListSearchResult> {
	const node = briaNode({ resource: 'image', operation: 'generate' });
	const { workflow, additionalData } = engineFor(node, credentials);
	const context = new LoadOptionsContext(workflow, node, additionalData, 'parameters.model');
	const nodeType = new BriaTailored();
	return await nodeType.methods.listSearch.searchModels.call(context, filter);
}

/**
 * Runs the node the way an AI agent calls it as a tool: n8n hands a tool node a SupplyDataContext
 * on an `ai_tool` connection (so `isToolExecution()` is true) and calls its execute.
 */
export async function runBriaNodeAsTool(options: RunOptions): Promise<INodeExecutionData[][]> {
	await ensureBinaryData();
	const node = briaNode(options.parameters);
	const { workflow, additionalData } = engineFor(node, options.credentials, {}, options.executionId ?? `test-tool-execution-${process.pid}-${++executions}`);
	const items = options.items ?? [{ json: {} }];
	const runExecutionData = createRunExecutionData({});
	const context = new SupplyDataContext(
		workflow,
		node,
		additionalData,
		'manual',
		runExecutionData,
		0,
		items,
		// A tool node's input arrives on its ai_tool connection (the agent's arguments).
		{ [NodeConnectionTypes.AiTool]: [items] },
		NodeConnectionTypes.AiTool,
		{ node, data: { [NodeConnectionTypes.AiTool]: [items] }, source: null },
		[],
	);
	return await new BriaTailored().execute.call(context as never);
}

/*
 * What a node writes through this.logger goes to n8n's own Logger (winston, not console). Its
 * methods are read-only, so the container hands out a recording view of it, installed once. Lines
 * go to the latest run's log, also after the run resolved: after a stop the engine resolves
 * before the node has finished (and logged).
 */
let nodeLogs: string[] = [];
let loggerRecorded = false;
function recordNodeLogs(logs: string[]): void {
	nodeLogs = logs;
	if (loggerRecorded) return;
	loggerRecorded = true;
	const levels = new Set<PropertyKey>(['error', 'warn', 'info', 'debug']);
	const record = (...args: unknown[]) => nodeLogs.push(args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
	Container.set(Logger, new Proxy(Container.get(Logger), { get: (target, key) => (levels.has(key) ? record : Reflect.get(target, key)) }));
}

export async function runBriaNode(options: RunOptions): Promise<RunResult> {
	await ensureBinaryData();
	const node = briaNode(options.parameters, options.continueOnFail, options.onError, {
		...(options.retryOnFail !== undefined ? { retryOnFail: options.retryOnFail } : {}),
		...(options.maxTries !== undefined ? { maxTries: options.maxTries } : {}),
		...(options.waitBetweenTries !== undefined ? { waitBetweenTries: options.waitBetweenTries } : {}),
	});
	const executionId = options.executionId ?? `test-execution-${process.pid}-${++executions}`;
	const { workflow, hooks, additionalData } = engineFor(node, options.credentials, options.workflowSettings, executionId);
	const finished = createDeferredPromise<IRun>();
	hooks.addHandler('workflowExecuteAfter', (run) => finished.resolve(run));

	// A loop's runs: the engine pops the stack from the end, each entry a new run of the node (next run index).
	const input = options.items ?? [{ json: {} }];
	const runExecutionData: IRunExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: Array.from({ length: Math.max(1, options.nodeRuns ?? 1) }, () => ({
				node,
				data: { main: [input] },
				source: null,
			})),
		},
	});
	// Plain patching, not jest's: the bench scripts run this harness outside jest.
	const binaryData = Container.get(BinaryDataService);
	const failing = options.binaryStoreFails;
	if (failing) binaryData.store = async () => await Promise.reject(new Error(failing));

	const logs: string[] = [];
	const capture = (...args: unknown[]) => logs.push(args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
	const original = { log: console.log, warn: console.warn, error: console.error, info: console.info, debug: console.debug };
	Object.assign(console, { log: capture, warn: capture, error: capture, info: capture, debug: capture });
	recordNodeLogs(logs);

	const started = Date.now();
	try {
		const execution = new WorkflowExecute(additionalData, 'manual', runExecutionData).processRunExecutionData(workflow);
		let timer: NodeJS.Timeout | undefined;
		if (options.cancelAfterMs !== undefined) timer = setTimeout(() => execution.cancel(), options.cancelAfterMs);
		const run = await Promise.race([finished.promise, execution.then(() => finished.promise)]);
		if (timer) clearTimeout(timer);
		const durationMs = Date.now() - started;
		const runs = run.data.resultData.runData[NODE_NAME] ?? [];
		const nodeRuns: NodeRun[] = (runs.length ? runs : [undefined]).map((taskData, index) => {
			const error = (taskData?.error ?? (index === runs.length - 1 || !runs.length ? run.data.resultData.error : undefined)) as
				| RunResult['error']
				| undefined;
			return {
				items: (taskData?.data?.main?.[0] ?? []) as INodeExecutionData[],
				errorOutput: (taskData?.data?.main?.[1] ?? []) as INodeExecutionData[],
				error: error
					? {
							message: error.message,
							description: error.description,
							context: error.context,
							httpCode: error.httpCode,
						}
					: undefined,
			};
		});
		return { ...nodeRuns[0], run, durationMs, logs, executionId, nodeRuns };
	} finally {
		// The instance's own property hid the class's method: deleting it brings that back.
		if (failing) delete (binaryData as Partial<BinaryDataService>).store;
		Object.assign(console, original);
	}
}

/** The bytes of a binary property, as n8n's own getBinaryDataBuffer would return them. */
export async function binaryBuffer(item: INodeExecutionData, property = 'data'): Promise<Buffer> {
	const binary = item.binary?.[property];
	if (!binary) throw new Error(`item has no binary "${property}"`);
	if (binary.id) return await Container.get(BinaryDataService).getAsBuffer(binary);
	return Buffer.from(binary.data, 'base64');
}

function safeJson(value: unknown): string {
	try {
		return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack } : v));
	} catch {
		return String(value);
	}
}

