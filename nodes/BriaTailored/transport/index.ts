import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	INode,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

export const CREDENTIAL_TYPE = 'briaApi';
export const DEFAULT_BASE_URL = 'https://engine.prod.bria-api.com';
const USER_AGENT = 'n8n-nodes-bria/0.1 (n8n)';

type BriaContext = IExecuteFunctions | ILoadOptionsFunctions;

export interface BriaResponse {
	/** 0 when no HTTP answer came: then `networkError` says why. */
	statusCode: number;
	headers: Record<string, unknown>;
	body: unknown;
	/** Reset, refused, timed out…: the request may or may not have reached Bria. */
	networkError?: string;
}

export interface BriaRequest {
	method: IHttpRequestMethods;
	/** Path below the base URL, e.g. `/v2/status/abc`. Never a full URL: the token goes only to the base URL. */
	path: string;
	body?: IDataObject;
	timeoutMs: number;
	itemIndex?: number;
}

/** Rejection of a wait or request when the user stops the execution (or it times out): nothing more is sent. */
export class CancelledError extends Error {
	constructor() {
		super('The execution was cancelled');
	}
}

const abortCallbacks = new WeakMap<AbortSignal, { callbacks: Set<() => void>; listener: () => void }>();

/**
 * Calls `callback` once when `signal` fires; returns the function that detaches it. Every waiter
 * of a signal shares one real listener: dozens of items waiting on the execution's cancel signal
 * would otherwise trip Node's "possible EventTarget memory leak" warning (10 listeners) in n8n's log.
 * The real listener goes with the last callback: Node keeps a signal made by AbortSignal.any alive
 * while it has a listener, and with it whatever the listener reaches (a download's whole body).
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
	let entry = abortCallbacks.get(signal);
	if (!entry) {
		const callbacks = new Set<() => void>();
		const listener = () => {
			abortCallbacks.delete(signal);
			for (const call of [...callbacks]) call();
		};
		entry = { callbacks, listener };
		abortCallbacks.set(signal, entry);
		signal.addEventListener('abort', listener, { once: true });
	}
	const own = entry;
	own.callbacks.add(callback);
	return () => {
		own.callbacks.delete(callback);
		if (own.callbacks.size || abortCallbacks.get(signal) !== own) return;
		signal.removeEventListener('abort', own.listener);
		abortCallbacks.delete(signal);
	};
}

/** Settles like `work`, or rejects with `reason()` as soon as `signal` fires, whichever comes first. */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
	return await new Promise<T>((resolve, reject) => {
		if (signal.aborted) reject(reason());
		const detach = signal.aborted ? () => undefined : onAbort(signal, () => reject(reason()));
		work.then(
			(value) => {
				detach();
				resolve(value);
			},
			(error: unknown) => {
				detach();
				reject(error);
			},
		);
	});
}

/** The URL if `raw` is an absolute http(s) URL; undefined otherwise. */
function httpUrl(raw: string): URL | undefined {
	try {
		const url = new URL(raw);
		return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
	} catch {
		return undefined;
	}
}

/** Reads the credential's base URL, refusing anything but http(s) before a request is made. */
export async function getBaseUrl(ctx: BriaContext): Promise<string> {
	const credentials = await ctx.getCredentials(CREDENTIAL_TYPE);
	const raw = String(credentials.baseUrl ?? '').trim() || DEFAULT_BASE_URL;
	if (!httpUrl(raw)) {
		const protocol = URL.canParse(raw) ? new URL(raw).protocol : undefined;
		throw new NodeOperationError(
			ctx.getNode(),
			protocol
				? `Bria API credential: Base URL must start with http:// or https:// (got "${protocol}")`
				: `Bria API credential: Base URL "${raw}" is not a valid URL`,
		);
	}
	return raw.replace(/\/+$/, '');
}

export function header(response: BriaResponse, name: string): string | undefined {
	const value = response.headers[name.toLowerCase()];
	if (Array.isArray(value)) return value.length ? String(value[0]) : undefined;
	return value === undefined || value === null ? undefined : String(value);
}

/** `Retry-After` in ms (seconds or HTTP date), if the response carries a usable one. */
export function retryAfterMs(response: BriaResponse): number | undefined {
	const value = header(response, 'retry-after');
	if (!value) return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Sends one authenticated request to the Bria API. Every outcome comes back as a response, a
 * missing answer too (`networkError`): callers decide what is retryable. The raw library error
 * is never passed on: it may carry the request headers, token included. Throws only on cancel.
 */
export async function sendToBria(
	ctx: BriaContext,
	baseUrl: string,
	request: BriaRequest,
	signal?: AbortSignal,
): Promise<BriaResponse> {
	if (signal?.aborted) throw new CancelledError();
	const timeoutMs = Math.max(1, Math.round(request.timeoutMs));
	const options: IHttpRequestOptions = {
		method: request.method,
		url: `${baseUrl}${request.path}`,
		headers: { 'User-Agent': USER_AGENT, Accept: 'application/json' },
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		// A followed redirect would carry the api_token header to whatever host it names. Bria's
		// API does not redirect: a 3xx comes back as an answer (and an error) instead.
		disableFollowRedirect: true,
		timeout: timeoutMs,
		...(request.body ? { body: request.body } : {}),
	};
	// httpRequestWithAuthentication swaps any abortSignal for the execution's cancel signal, so
	// the budget is also raced in `withinBudget`; the abandoned request ends at the library's idle timeout.
	const outcome = await withinBudget(timeoutMs, signal, async (abortSignal) =>
		await ctx.helpers.httpRequestWithAuthentication.call(ctx, CREDENTIAL_TYPE, { ...options, abortSignal }),
	);
	if ('networkError' in outcome) return { statusCode: 0, headers: {}, body: undefined, networkError: outcome.networkError };
	return {
		statusCode: outcome.response.statusCode,
		headers: lowerCaseKeys(outcome.response.headers ?? {}),
		body: parseMaybeJson(outcome.response.body),
	};
}

type RawResponse = { statusCode: number; headers?: Record<string, unknown>; body: unknown };

/**
 * Runs one request of n8n's helpers within its whole time budget: the answer, or why none came.
 * The library's `timeout` only bounds silence on the socket, so an answer that trickles in would
 * otherwise outlast it, and the item's max wait time, indefinitely. Throws only on cancel.
 */
async function withinBudget(
	timeoutMs: number,
	signal: AbortSignal | undefined,
	send: (abortSignal: AbortSignal) => Promise<unknown>,
): Promise<{ response: RawResponse } | { networkError: string }> {
	const budget = AbortSignal.timeout(timeoutMs);
	const limit = signal ? AbortSignal.any([signal, budget]) : budget;
	let response: RawResponse | undefined;
	let failure: unknown;
	try {
		response = (await untilAborted(send(limit), limit, () => new Error('The request\'s time budget ran out'))) as RawResponse;
	} catch (error) {
		failure = error;
	}
	if (signal?.aborted) throw new CancelledError();
	return response ? { response } : { networkError: describeNetworkError(failure, timeoutMs, budget.aborted) };
}

function describeNetworkError(error: unknown, timeoutMs: number, budgetExpired = false): string {
	// n8n's helpers wrap the network error; its code ends up in `code`, `cause.code` or `httpCode`.
	const e = (error ?? {}) as { code?: string; cause?: { code?: string }; httpCode?: string; messages?: string[] };
	const wrapped = typeof e.httpCode === 'string' && /^E[A-Z_]+$/.test(e.httpCode) ? e.httpCode : undefined;
	const timedOut = e.messages?.some((message) => /timeout of \d+ms exceeded/.test(message)) ? 'ETIMEDOUT' : undefined;
	const code = e.code ?? e.cause?.code ?? wrapped ?? timedOut;
	if (budgetExpired || code === 'ECONNABORTED' || code === 'ETIMEDOUT')
		return `no answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`;
	if (code === 'ECONNRESET' || code === 'EPIPE') return 'the connection was reset';
	// The library's code for a response stream that ended early (connection dropped mid-body).
	if (code === 'ERR_BAD_RESPONSE') return 'the connection dropped before the whole answer arrived';
	if (code === 'ECONNREFUSED') return 'the connection was refused';
	if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host could not be resolved';
	return code ? `network error (${code})` : 'network error';
}

function lowerCaseKeys(headers: Record<string, unknown>): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = value;
	return out;
}

function parseMaybeJson(body: unknown): unknown {
	if (typeof body !== 'string') return body;
	const text = body.trim();
	if (!text.startsWith('{') && !text.startsWith('[')) return body;
	try {
		return JSON.parse(text);
	} catch {
		return body;
	}
}

/** Bria's message and details from an error body (v2 object, or an older endpoint's plain text). */
export function briaErrorText(body: unknown): { message?: string; details?: string } {
	if (typeof body === 'string') return { message: body.trim().slice(0, 500) || undefined };
	if (!body || typeof body !== 'object') return {};
	const record = body as Record<string, unknown>;
	const inner = (record.error && typeof record.error === 'object' ? record.error : record) as Record<
		string,
		unknown
	>;
	const pick = (value: unknown) =>
		typeof value === 'string' && value.trim() ? value.trim() : value ? JSON.stringify(value) : undefined;
	return {
		message: pick(inner.message) ?? (typeof record.error === 'string' ? record.error : undefined),
		details: pick(inner.details) ?? pick(record.detail),
	};
}

const STATUS_MEANING: Record<number, string> = {
	400: 'Bria rejected the request parameters',
	401: 'Bria did not accept the API token: check the Bria API credential',
	403: 'Bria refused access: the model may not belong to this organization, or the plan or quota does not allow this request',
	404: 'Bria does not know this request ID: it is wrong or has expired',
	422: 'Bria\'s content moderation blocked this request',
	429: 'Bria\'s rate limit was reached',
};

/** One place that turns a Bria HTTP failure into the error the user sees. */
export function apiError(
	node: INode,
	response: BriaResponse,
	context: { itemIndex?: number; requestId?: string; action: string },
): NodeApiError {
	const { message, details } = briaErrorText(response.body);
	const code = response.statusCode;
	const meaning =
		STATUS_MEANING[code] ?? (code >= 500 ? 'Bria had a server error' : `Bria answered HTTP ${code}`);
	const description = [
		message ? `Bria says: ${message}` : undefined,
		details ? `Details: ${details}` : undefined,
		context.requestId ? `Request ID: ${context.requestId}` : undefined,
	]
		.filter(Boolean)
		.join('\n');
	const error = new NodeApiError(node, (typeof response.body === 'object' && response.body
		? response.body
		: { message: String(response.body ?? '') }) as JsonObject, {
		message: `${meaning} (${context.action}, HTTP ${code})`,
		description: description || undefined,
		httpCode: String(code),
		itemIndex: context.itemIndex,
	});
	if (context.requestId) error.context.requestId = context.requestId;
	return error;
}

export interface DownloadedFile {
	data: Buffer;
	mimeType: string;
}

/**
 * Downloads a result file from Bria's storage host with the plain helper: no credential, so the
 * token never leaves for a host other than the base URL. Fails with a clear reason, never silently.
 */
export async function downloadResultFile(
	ctx: IExecuteFunctions,
	url: string,
	timeoutMs: number,
	job: { itemIndex: number; requestId: string },
	signal?: AbortSignal,
): Promise<DownloadedFile> {
	// The job is done and paid: the error keeps what identifies it.
	const fail = (message: string, description?: string) => {
		const error = new NodeOperationError(ctx.getNode(), `Could not download the result image: ${message}`, {
			itemIndex: job.itemIndex,
			description: `${description ? `${description} ` : ''}The image URL is ${url} (request ID ${job.requestId}).`,
		});
		Object.assign(error.context, { requestId: job.requestId, imageUrl: url });
		return error;
	};
	if (!httpUrl(url)) throw fail('Bria sent an image_url that is not an http(s) URL');
	const budgetMs = Math.max(1, Math.round(timeoutMs));
	const outcome = await withinBudget(budgetMs, signal, async (abortSignal) =>
		await ctx.helpers.httpRequest({
			method: 'GET',
			url,
			encoding: 'arraybuffer',
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: budgetMs,
			abortSignal,
		}),
	);
	if ('networkError' in outcome) throw fail(outcome.networkError);
	const { response } = outcome;
	if (response.statusCode < 200 || response.statusCode > 299) {
		throw fail(
			`the storage host answered HTTP ${response.statusCode}`,
			response.statusCode === 403 || response.statusCode === 404
				? 'Result URLs are temporary: it may have expired.'
				: undefined,
		);
	}
	const headers = lowerCaseKeys(response.headers ?? {});
	const declared = String(headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
	const untyped = !declared || UNTYPED_CONTENT_TYPES.includes(declared);
	if (!declared.startsWith('image/') && !untyped) throw fail(`expected an image but got "${declared}"`);
	const data = Buffer.isBuffer(response.body)
		? response.body
		: response.body instanceof ArrayBuffer
			? Buffer.from(response.body)
			: Buffer.from(String(response.body ?? ''));
	if (data.length === 0) throw fail('the file is empty');
	// The bytes say what the file is: object stores send octet-stream when no type was set on
	// upload, and a proxy's error page can arrive labelled as an image.
	const sniffed = imageTypeOf(data);
	if (!sniffed) throw fail(`expected an image but got "${declared || 'no content type'}" whose bytes are not PNG, JPEG or WebP`);
	return { data, mimeType: sniffed };
}

/** Content types that say nothing about the file. */
const UNTYPED_CONTENT_TYPES = ['application/octet-stream', 'binary/octet-stream'];

/** The image type from the file's first bytes (its signature), for the formats Bria returns. */
export function imageTypeOf(data: Buffer): string | undefined {
	if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
	if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
	if (data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
	return undefined;
}
