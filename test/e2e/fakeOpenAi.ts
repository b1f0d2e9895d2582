/**
 * A small OpenAI-compatible model server for the AI Agent e2e tests, on 127.0.0.1. It behaves like
 * a model that uses tools: asked with tools available and no tool result yet, it calls the Bria
 * tool with arguments it chose (from the user's message and the tool's JSON schema); once the tool
 * result is in the conversation, it answers with text that quotes it. Every request is recorded,
 * so a test can read the exact tool result the model received.
 *
 * n8n's OpenAI Chat Model node (lmChatOpenAi, through @langchain/openai) calls
 * `POST <base>/chat/completions` (up to node version 1.2, or 1.3 with "Use Responses API" off) or
 * `POST <base>/responses` (1.3's default); both are served, with and without `stream: true`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolSchema {
	name: string;
	description?: string;
	parameters?: { properties?: Record<string, { type?: string; description?: string; enum?: unknown[] }>; required?: string[] };
}

export interface ModelRequest {
	api: 'chat' | 'responses';
	stream: boolean;
	body: Record<string, unknown>;
	tools: ToolSchema[];
	/** The user's latest text. */
	userText: string;
	/** Tool results in the conversation, in order (the text the model received). */
	toolResults: string[];
}

export interface ToolCallPlan {
	/** Picks the tool to call among those offered; default: the first whose name mentions Bria. */
	tool?: (tools: ToolSchema[]) => ToolSchema | undefined;
	/** The arguments the model "chooses"; default: fills prompt/aspect fields from the user's text. */
	args?: (tool: ToolSchema, userText: string) => Record<string, unknown>;
}

/** What a model would put into a tool's fields: the user's text for a prompt, a ratio it read there. */
export function chooseArguments(tool: ToolSchema, userText: string): Record<string, unknown> {
	const args: Record<string, unknown> = {};
	const ratio = /\b(\d{1,2}:\d{1,2})\b/.exec(userText)?.[1];
	const request = userText.replace(/^\s*(please\s+)?(draw|generate|make|create)\s*:?\s*/i, '').replace(/\s*\(?\b\d{1,2}:\d{1,2}\b\)?\s*$/, '');
	for (const [key, schema] of Object.entries(tool.parameters?.properties ?? {})) {
		if (/aspect/i.test(key)) {
			if (ratio) args[key] = ratio;
		} else if (/prompt/i.test(key)) args[key] = request;
		else if (schema.type === 'string' && tool.parameters?.required?.includes(key)) args[key] = request;
	}
	return args;
}

export class FakeOpenAi {
	readonly requests: ModelRequest[] = [];
	plan: ToolCallPlan = {};
	private counter = 0;

	private constructor(private readonly server: http.Server) {}

	static async start(): Promise<FakeOpenAi> {
		const server = http.createServer();
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(0, '127.0.0.1', () => resolve());
		});
		const fake = new FakeOpenAi(server);
		server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => fake.accept(req, res));
		return fake;
	}

	/** The base URL an OpenAI credential takes (`…/v1`). */
	get baseUrl(): string {
		return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
	}

	reset(plan: ToolCallPlan = {}): void {
		this.requests.length = 0;
		this.plan = plan;
	}

	/** Every tool result the model received, parsed where it is JSON. */
	toolResults(): unknown[] {
		return this.requests.flatMap((request) => request.toolResults).filter((text, index, all) => all.indexOf(text) === index).map(parseJson);
	}

	async stop(): Promise<void> {
		this.server.closeAllConnections();
		await new Promise<void>((resolve) => this.server.close(() => resolve()));
	}

	private accept(req: http.IncomingMessage, res: http.ServerResponse): void {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			try {
				const path = (req.url ?? '').split('?')[0];
				const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
				if (req.method === 'POST' && path.endsWith('/chat/completions')) return this.chat(body, res);
				if (req.method === 'POST' && path.endsWith('/responses')) return this.responses(body, res);
				send(res, 404, { error: { message: `fake model: no route ${req.method} ${path}`, type: 'invalid_request_error' } });
			} catch (error) {
				send(res, 500, { error: { message: `fake model: ${(error as Error).message}`, type: 'server_error' } });
			}
		});
	}

	/** Either a tool call (no tool result yet) or the final answer quoting the last tool result. */
	private decide(request: ModelRequest): { call: { name: string; args: Record<string, unknown> } } | { text: string } {
		this.requests.push(request);
		const last = request.toolResults.at(-1);
		if (last !== undefined) return { text: `Done. The tool answered: ${last}` };
		const tool = (this.plan.tool ?? ((tools) => tools.find((t) => /bria/i.test(t.name))))(request.tools);
		if (!tool) return { text: `I have no Bria tool (offered: ${request.tools.map((t) => t.name).join(', ') || 'none'})` };
		return { call: { name: tool.name, args: (this.plan.args ?? chooseArguments)(tool, request.userText) } };
	}

	private chat(body: Record<string, unknown>, res: http.ServerResponse): void {
		const messages = (body.messages as Array<Record<string, unknown>>) ?? [];
		const tools = ((body.tools as Array<{ function?: ToolSchema }>) ?? []).flatMap((tool) => (tool.function ? [tool.function] : []));
		const stream = body.stream === true;
		const decision = this.decide({
			api: 'chat',
			stream,
			body,
			tools,
			userText: textOf([...messages].reverse().find((message) => message.role === 'user')?.content),
			toolResults: messages.filter((message) => message.role === 'tool').map((message) => textOf(message.content)),
		});
		const id = `chatcmpl-fake${++this.counter}`;
		const created = Math.floor(Date.now() / 1000);
		const model = String(body.model ?? 'gpt-fake');
		const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
		const toolCall = 'call' in decision ? { id: `call_fake${this.counter}`, type: 'function', function: { name: decision.call.name, arguments: JSON.stringify(decision.call.args) } } : undefined;
		const finish = toolCall ? 'tool_calls' : 'stop';
		if (!stream) {
			const message = toolCall ? { role: 'assistant', content: null, tool_calls: [toolCall] } : { role: 'assistant', content: (decision as { text: string }).text };
			return send(res, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage });
		}
		const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
		const events = toolCall
			? [chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, ...toolCall }] }, null), chunk({}, finish)]
			: [chunk({ role: 'assistant', content: (decision as { text: string }).text }, null), chunk({}, finish)];
		sendEvents(res, [...events, { id, object: 'chat.completion.chunk', created, model, choices: [], usage }].map((event) => ({ data: event })), true);
	}

	private responses(body: Record<string, unknown>, res: http.ServerResponse): void {
		const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : ((body.input as Array<Record<string, unknown>>) ?? []);
		const tools = ((body.tools as Array<ToolSchema & { type?: string }>) ?? []).filter((tool) => tool.type === 'function');
		const stream = body.stream === true;
		const decision = this.decide({
			api: 'responses',
			stream,
			body,
			tools,
			userText: textOf([...input].reverse().find((entry) => entry.role === 'user')?.content),
			toolResults: input.filter((entry) => entry.type === 'function_call_output').map((entry) => textOf(entry.output)),
		});
		const n = ++this.counter;
		const output =
			'call' in decision
				? [{ type: 'function_call', id: `fc_fake${n}`, call_id: `call_fake${n}`, name: decision.call.name, arguments: JSON.stringify(decision.call.args), status: 'completed' }]
				: [{ type: 'message', id: `msg_fake${n}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: decision.text, annotations: [] }] }];
		const response = {
			id: `resp_fake${n}`,
			object: 'response',
			created_at: Math.floor(Date.now() / 1000),
			status: 'completed',
			model: String(body.model ?? 'gpt-fake'),
			output,
			parallel_tool_calls: true,
			tool_choice: 'auto',
			tools: body.tools ?? [],
			usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
		};
		if (!stream) return send(res, 200, response);
		const item = output[0];
		sendEvents(res, [
			{ event: 'response.created', data: { type: 'response.created', response: { ...response, status: 'in_progress', output: [] } } },
			{ event: 'response.output_item.added', data: { type: 'response.output_item.added', output_index: 0, item } },
			{ event: 'response.output_item.done', data: { type: 'response.output_item.done', output_index: 0, item } },
			{ event: 'response.completed', data: { type: 'response.completed', response } },
		], false);
	}
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
	res.writeHead(status, { 'content-type': 'application/json' });
	res.end(JSON.stringify(body));
}

function sendEvents(res: http.ServerResponse, events: Array<{ event?: string; data: unknown }>, done: boolean): void {
	res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
	for (const { event, data } of events) res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
	if (done) res.write('data: [DONE]\n\n');
	res.end();
}

/** Message content as plain text: a string, or the text parts of a content array. */
function textOf(content: unknown): string {
	if (typeof content === 'string') return content;
	if (Array.isArray(content))
		return content.map((part) => (typeof part === 'string' ? part : String((part as { text?: unknown })?.text ?? ''))).join('');
	return content === undefined || content === null ? '' : JSON.stringify(content);
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text;
	}
}
