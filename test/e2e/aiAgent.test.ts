/**
 * Bria Tailored as an AI-agent tool in a real n8n: n8n's AI Agent (its default version 3.1, which
 * runs tools through the engine, and 2.2, which calls them itself), n8n's OpenAI Chat Model node
 * whose credential's base URL points at a small OpenAI-compatible model server (fakeOpenAi.ts),
 * and the node's tool variant (`n8n-nodes-bria.briaTailoredTool`) attached as the agent's tool.
 *
 * The model calls the tool with arguments it chose; the tests check what Bria (the simulator)
 * received, what the model received back (compact JSON, no image download), and that a Bria
 * error reaches the model as a readable tool result instead of crashing the execution.
 */
import { randomUUID } from 'node:crypto';

import { BriaSimulator } from '../simulator/BriaSimulator';
import type { Execution, N8nInstance, WorkflowFile, WorkflowNode } from '../../scripts/lib/n8n';
import { briaCredential, briaNode, manualTrigger, modelById, setNode, workflowId } from '../../scripts/lib/workflows';
import { FakeOpenAi } from './fakeOpenAi';
import { acceptedSubmits, body, expectTokenOnlyOnApiHost, newInstance, requestsTo, SETUP_TIMEOUT_MS, sharedInstall, TOKEN } from './helpers';

const CREDENTIAL = { id: 'briaE2eAgent00001', name: 'Bria API (e2e)' };
const OPENAI_CREDENTIAL = { id: 'openAiE2eAgent001', name: 'OpenAI (fake model)' };
const TOOL_TYPE = 'n8n-nodes-bria.briaTailoredTool';

const { install } = sharedInstall();
/**
 * The Agent's default version and 2.2 (which calls its tools itself). 3.x runs tools through the
 * engine; n8n 2.x defaults to 3.1, 1.123 to 3 (its only 3.x).
 */
const AGENT_VERSIONS = install.major >= 2 ? [3.1, 2.2] : [3, 2.2];
const [DEFAULT_AGENT] = AGENT_VERSIONS;
/** Both model APIs get used: the Chat Model's default (1.3, Responses API) and chat completions (1.2). */
const MODEL_VERSION: Record<number, number> = { [DEFAULT_AGENT]: 1.3, 2.2: 1.2 };

/** Chat messages the agent gets, one per input item (the agent runs items one after another). */
const TEAPOT = 'Draw: A teal teapot on a wooden shelf (16:9)';
const FORBIDDEN = 'Draw: A forbidden poster';

interface AgentWorkflowOptions {
	agentVersion: number;
	/** OpenAI Chat Model 1.3 (its default) calls /responses; 1.2 calls /chat/completions. */
	modelVersion: number;
	messages: string[];
	/** The tool's own parameters besides resource/operation/model. Omitted: what the node gives a new tool. */
	toolParameters?: Record<string, unknown>;
}

function agentWorkflow(label: string, options: AgentWorkflowOptions): WorkflowFile {
	const trigger = manualTrigger();
	const input = setNode('Chat Messages', [{ name: 'messages', value: `={{ ${JSON.stringify(options.messages)} }}`, type: 'array' }]);
	const split: WorkflowNode = {
		id: randomUUID(),
		name: 'One Message Each',
		type: 'n8n-nodes-base.splitOut',
		typeVersion: 1,
		position: [480, 0],
		parameters: { fieldToSplitOut: 'messages', options: { destinationFieldName: 'chatInput' } },
	};
	const agent: WorkflowNode = {
		id: randomUUID(),
		name: 'AI Agent',
		type: '@n8n/n8n-nodes-langchain.agent',
		typeVersion: options.agentVersion,
		position: [720, 0],
		parameters: { promptType: 'define', text: '={{ $json.chatInput }}', options: {} },
	};
	const model: WorkflowNode = {
		id: randomUUID(),
		name: 'OpenAI Chat Model',
		type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
		typeVersion: options.modelVersion,
		position: [640, 240],
		parameters: { model: { __rl: true, mode: 'list', value: 'gpt-4o-mini' }, options: {} },
		credentials: { openAiApi: OPENAI_CREDENTIAL },
	};
	const tool = briaNode(
		'Bria Tailored',
		{ resource: 'image', operation: 'generate', model: modelById(101), ...(options.toolParameters ?? {}) },
		CREDENTIAL,
		{ type: TOOL_TYPE, position: [880, 240] },
	);
	trigger.position = [0, 0];
	input.position = [240, 0];
	return {
		id: workflowId(label),
		name: `e2e: AI Agent ${options.agentVersion} with the Bria tool (${label})`,
		active: false,
		nodes: [trigger, input, split, agent, model, tool],
		connections: {
			[trigger.name]: { main: [[{ node: input.name, type: 'main', index: 0 }]] },
			[input.name]: { main: [[{ node: split.name, type: 'main', index: 0 }]] },
			[split.name]: { main: [[{ node: agent.name, type: 'main', index: 0 }]] },
			// Sub-node connections: the model and the tool feed the agent.
			[model.name]: { ai_languageModel: [[{ node: agent.name, type: 'ai_languageModel', index: 0 }]] },
			[tool.name]: { ai_tool: [[{ node: agent.name, type: 'ai_tool', index: 0 }]] },
		} as unknown as WorkflowFile['connections'],
		settings: { executionOrder: 'v1' },
	};
}

const workflows = {
	...Object.fromEntries(AGENT_VERSIONS.map((version) => [`agent${version}`, agentWorkflow(`agent${version}`, { agentVersion: version, modelVersion: MODEL_VERSION[version], messages: [TEAPOT, FORBIDDEN] })])),
	// A tool configured by hand the way users did before the node marked its fields: the prompt
	// from the model through the user's own $fromAI, the options collection saved empty.
	...Object.fromEntries(
		AGENT_VERSIONS.map((version) => [
			`ownFromAi${version}`,
			agentWorkflow(`ownFromAi${version}`, {
				agentVersion: version,
				modelVersion: MODEL_VERSION[version],
				messages: [TEAPOT],
				toolParameters: { inputMode: 'prompt', prompt: "={{ $fromAI('prompt', 'What to draw', 'string') }}", options: {} },
			}),
		]),
	),
} satisfies Record<string, WorkflowFile>;

let sim: BriaSimulator;
let model: FakeOpenAi;
let n8n: N8nInstance;

async function execute(workflow: WorkflowFile): Promise<Execution> {
	sim.reset();
	model.reset();
	return await n8n.execute(workflow.id, { timeoutMs: 150_000 });
}

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 300 });
	model = await FakeOpenAi.start();
	// No N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE: 1.123 and 2.x offer community nodes as tools as is.
	n8n = await newInstance();
	await n8n.importCredentials([
		briaCredential(CREDENTIAL.id, TOKEN, sim.baseUrl, CREDENTIAL.name),
		{ id: OPENAI_CREDENTIAL.id, name: OPENAI_CREDENTIAL.name, type: 'openAiApi', data: { apiKey: 'sk-fake-e2e', url: model.baseUrl } },
	]);
	await n8n.importWorkflows(Object.values(workflows));
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
	await model?.stop();
	await sim?.stop();
	await n8n?.dispose();
});

/** The tool result the model received for one conversation, parsed (n8n sends a JSON array of item json). */
function toolResultFor(userText: string): unknown {
	const request = model.requests.find((entry) => entry.userText === userText && entry.toolResults.length > 0);
	if (!request) throw new Error(`the model never received a tool result for "${userText}" (requests: ${JSON.stringify(model.requests.map((r) => [r.userText, r.toolResults]))})`);
	const text = request.toolResults[0];
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}

/** Some n8n lines hand the model the item list, others the single item: compare the item itself. */
function firstItem(result: unknown): unknown {
	return Array.isArray(result) ? result[0] : result;
}

/** What the model got back from one image tool call, and how many images were downloaded meanwhile. */
function expectCompactImageResult(result: unknown, requestId: string): void {
	expect({ toolResult: firstItem(result), imageDownloads: requestsTo(sim, 'image').length }).toEqual({
		toolResult: { request_id: requestId, status: 'COMPLETED', image_url: `${sim.imageBaseUrl}/results/${requestId}.png`, seed: expect.any(Number) },
		imageDownloads: 0,
	});
	// The structured prompt is kilobytes of JSON; the model gets only what it can use.
	expect(JSON.stringify(result).length).toBeLessThan(400);
}

describe.each(AGENT_VERSIONS)('AI Agent %s with the OpenAI Chat Model and the Bria tool', (agentVersion) => {
	let run: Execution;
	beforeAll(async () => {
		run = await execute(workflows[`agent${agentVersion}` as keyof typeof workflows]);
	}, 180_000);

	test('the model calls the tool; Bria gets the prompt and aspect ratio the model chose', () => {
		expect(run.error).toBeUndefined();
		// The OpenAI Chat Model node's own choice of API (see MODEL_VERSION), without streaming here.
		expect(model.requests.map(({ api, stream }) => `${api}${stream ? ' (stream)' : ''}`)).toEqual(
			model.requests.map(() => (MODEL_VERSION[agentVersion] >= 1.3 ? 'responses' : 'chat')),
		);
		const tools = model.requests[0]?.tools ?? [];
		expect(tools.map((tool) => tool.name)).toEqual([expect.stringMatching(/bria/i)]);
		// The node marks its prompt (required) and the aspect ratio for the model to fill.
		expect(Object.keys(tools[0].parameters?.properties ?? {})).toEqual(expect.arrayContaining([expect.stringMatching(/prompt/i), expect.stringMatching(/aspect/i)]));

		const submits = requestsTo(sim, 'submitImage');
		// Agent 3.x may run the two conversations side by side: match each submit by its prompt.
		expect(submits.map((entry) => body(entry).prompt).sort()).toEqual(['A forbidden poster', 'A teal teapot on a wooden shelf']);
		const teapot = submits.find((entry) => body(entry).prompt === 'A teal teapot on a wooden shelf');
		expect(body(teapot!)).toEqual({ tailored_model_id: '101', prompt: 'A teal teapot on a wooden shelf', aspect_ratio: '16:9', sync: false });
		// The model gave no ratio for the poster: the tool's fallback, 1:1.
		expect(body(submits.find((entry) => entry !== teapot)!)).toMatchObject({ aspect_ratio: '1:1' });
		expectTokenOnlyOnApiHost(sim);
	});

	test('the model receives compact JSON (request_id, status, image_url, seed) and no image is downloaded', () => {
		const [accepted] = acceptedSubmits(sim, 'submitImage');
		expectCompactImageResult(toolResultFor(TEAPOT), accepted.requestId as string);
		const [answer] = run.items('AI Agent');
		expect(String(answer.json.output)).toContain(`${sim.imageBaseUrl}/results/${accepted.requestId as string}.png`);
	});

	test('a Bria error (422 moderation) comes back to the model as a readable tool result, not a crashed execution', () => {
		expect(run.error).toBeUndefined();
		const result = JSON.stringify(toolResultFor(FORBIDDEN));
		// The node's own error item: Bria's message as text the model can relay.
		expect(firstItem(toolResultFor(FORBIDDEN))).toEqual(expect.objectContaining({ error: expect.any(String) }));
		expect(result).toMatch(/moderation/i);
		expect(result.includes(TOKEN)).toBe(false);
		const answers = run.items('AI Agent');
		expect(answers).toHaveLength(2);
		expect(String(answers[1].json.output)).toMatch(/moderation/i);
	});
});

test.each(AGENT_VERSIONS)('Agent %s, a tool whose prompt the user gave to the model by hand (own $fromAI, options saved empty): compact JSON, no download', async (agentVersion) => {
	const run = await execute(workflows[`ownFromAi${agentVersion}` as keyof typeof workflows]);
	expect(run.error).toBeUndefined();
	const [accepted] = acceptedSubmits(sim, 'submitImage');
	expect(body(accepted)).toMatchObject({ prompt: 'A teal teapot on a wooden shelf' });
	expect(body(accepted).aspect_ratio).toBeUndefined();
	expectCompactImageResult(toolResultFor(TEAPOT), accepted.requestId as string);
}, 180_000);
