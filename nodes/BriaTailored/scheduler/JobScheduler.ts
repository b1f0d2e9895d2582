import type { IDataObject, IExecuteFunctions, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { JobSpec } from '../actions/types';
import type { BriaResponse } from '../transport';
import { apiError, briaErrorText, pause, retryAfterMs, sendToBria } from '../transport';
import { Pacer } from './Pacer';

/*
 * The one place that submits Bria jobs and waits for them, for all items of one execution.
 * - Submits are billed: a submit is repeated only after a 429 (Bria did not accept it), never
 *   after any other failure, since Bria may have accepted a request whose answer we lost.
 * - Every request (submit or status check) passes one shared Pacer, so a 429 or a
 *   requests-per-minute cap slows the whole node, not one item.
 * - Status checks follow POLL_SCHEDULE; transient failures (429, 5xx, resets, garbled bodies)
 *   back off and keep trying until the item's max wait time.
 */

/*
 * When to check a job again, by time since it was submitted. Two promises set the numbers: a
 * finished job is noticed within 2 s (checks less than 2 s apart, leaving room for the request
 * itself), and a job of D seconds costs at most D/2 + 2 status checks (Bria counts them against
 * the rate limit). So: first check 1.5 s in, every 1.95 s for the first minute, then every 3 s,
 * and every 5 s past two minutes.
 */
const FIRST_CHECK_MS = 1_500;

export function pollDelayMs(elapsedMs: number): number {
	if (elapsedMs < FIRST_CHECK_MS) return FIRST_CHECK_MS - elapsedMs;
	if (elapsedMs < 60_000) return 1_950;
	if (elapsedMs < 120_000) return 3_000;
	return 5_000;
}

/** Delay after the n-th consecutive failed status check (1, 2, 4, 8 … 30 s), unless Retry-After says more. */
export function failureBackoffMs(failures: number): number {
	return Math.min(30_000, 1_000 * 2 ** Math.max(0, failures - 1));
}

const SUBMIT_TIMEOUT_MS = 60_000;
/** However slow an answer was, the next check waits at least this long after it. */
const MIN_GAP_AFTER_ANSWER_MS = 250;
const STATUS_TIMEOUT_MS = 30_000;

/** A job's state as the node reports it: Bria's body, with request_id always present. */
export interface JobState extends IDataObject {
	request_id: string;
	status: string;
}

export class JobScheduler {
	private readonly pacer: Pacer;

	private readonly node: INode;

	private readonly signal: AbortSignal | undefined;

	/** request_id of every job this execution submitted or resumed, by item index. */
	readonly requestIds = new Map<number, string>();

	constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly baseUrl: string,
		private readonly settings: { concurrency: number; requestsPerMinute: number },
	) {
		this.node = ctx.getNode();
		this.signal = ctx.getExecutionCancelSignal?.();
		this.pacer = new Pacer(settings.requestsPerMinute, this.signal);
	}

	/**
	 * Runs `task` for item indexes 0…count-1, at most `concurrency` at once. Results keep input
	 * order. With `stopOnError`, no new item starts after a failure; started ones finish (their
	 * jobs are paid for) and items never started have no result.
	 */
	async forEach<T>(
		count: number,
		task: (itemIndex: number) => Promise<T>,
		stopOnError: boolean,
	): Promise<Array<{ value: T } | { error: Error } | undefined>> {
		const results: Array<{ value: T } | { error: Error } | undefined> = new Array(count).fill(undefined);
		let next = 0;
		let failed = false;
		const worker = async () => {
			while (next < count && !(stopOnError && failed) && !this.signal?.aborted) {
				const itemIndex = next++;
				try {
					results[itemIndex] = { value: await task(itemIndex) };
				} catch (error) {
					failed = true;
					results[itemIndex] = { error: error as Error };
				}
			}
		};
		const workers = Math.max(1, Math.min(this.settings.concurrency, count));
		await Promise.all(Array.from({ length: workers }, worker));
		if (this.signal?.aborted) throw new NodeOperationError(this.node, 'The execution was cancelled');
		return results;
	}

	/**
	 * Submits (or resumes) one item's job and, when asked, waits until `deadline` for its final state.
	 * `limit` names what set the deadline, for the timeout error (Max Wait Time unless told otherwise).
	 */
	async run(
		job: JobSpec,
		itemIndex: number,
		deadline: number,
		limit = `the max wait time (${Math.round(job.maxWaitMs / 1000)} s)`,
	): Promise<JobState> {
		let requestId = job.requestId;
		if (job.submit) {
			const accepted = await this.submit(job, itemIndex, deadline);
			if (accepted.status === 'COMPLETED' || !job.waitForCompletion) return accepted;
			requestId = accepted.request_id;
		}
		if (!requestId) throw new NodeOperationError(this.node, 'No request ID to check', { itemIndex });
		this.requestIds.set(itemIndex, requestId);
		return await this.waitFor(requestId, itemIndex, deadline, !job.waitForCompletion, limit);
	}

	private async submit(job: JobSpec, itemIndex: number, deadline: number): Promise<JobState> {
		const action = 'submitting the job';
		for (let throttled = 0; ; throttled++) {
			const turn = await this.pacer.acquire('submit', deadline);
			const remaining = deadline - Date.now();
			if (!turn || remaining <= 0) {
				throw new NodeOperationError(this.node, 'No turn to submit the job within the max wait time', {
					itemIndex,
					description: `${throttled ? `Bria answered 429 (rate limit) ${throttled} time(s). ` : ''}Bria's rate limit or this node's Requests per Minute cap left no turn in time; no job was started for this item. Raise Max Wait Time, lower Concurrency or set Requests per Minute.`,
				});
			}
			const response = await this.send('POST', job.submit!.path, itemIndex, Math.min(SUBMIT_TIMEOUT_MS, remaining), job.submit!.body);
			if (response.networkError) {
				// The request may have reached Bria: repeating it could start (and bill) a second job.
				throw new NodeApiError(this.node, { message: response.networkError } as JsonObject, {
					message: `Could not submit the job to Bria: ${response.networkError}`,
					description:
						'Not retried automatically: Bria may have accepted the request, and every submit is a billed job. Check your Bria dashboard before running this item again.',
					itemIndex,
				});
			}
			if (response.statusCode === 429) {
				const wait = this.pacer.throttled('submit', retryAfterMs(response));
				if (Date.now() + wait < deadline) continue;
				throw apiError(this.node, response, { itemIndex, action: `${action}; gave up: the rate limit lasts past the max wait time` });
			}
			if (response.statusCode !== 200 && response.statusCode !== 202) {
				throw apiError(this.node, response, { itemIndex, action });
			}
			this.pacer.succeeded('submit');
			const body = asObject(response.body);
			const requestId = typeof body?.request_id === 'string' || typeof body?.request_id === 'number' ? String(body.request_id) : '';
			// A 200 carries the finished result (sync); a 202 the request_id to follow.
			if (response.statusCode === 200 && body && (body.result || body.image_url || body.structured_prompt)) {
				return { ...body, request_id: requestId, status: 'COMPLETED' };
			}
			if (!requestId) {
				throw new NodeApiError(this.node, { message: 'no request_id' } as JsonObject, {
					message: 'Bria accepted the job but its answer has no request_id to follow',
					description: `Answer (HTTP ${response.statusCode}): ${preview(response.body)}. Not retried: the job may be running and billed.`,
					itemIndex,
				});
			}
			this.requestIds.set(itemIndex, requestId);
			return {
				request_id: requestId,
				status: 'IN_PROGRESS',
				status_url: typeof body?.status_url === 'string' ? body.status_url : `${this.baseUrl}/v2/status/${requestId}`,
			};
		}
	}

	/** Checks the job until it ends or `deadline` passes; with `checkOnce`, checks once (still within `deadline`). */
	private async waitFor(
		requestId: string,
		itemIndex: number,
		deadline: number,
		checkOnce: boolean,
		limit: string,
	): Promise<JobState> {
		const path = `/v2/status/${encodeURIComponent(requestId)}`;
		const started = Date.now();
		let nextCheckAt = checkOnce ? started : started + pollDelayMs(0);
		let failures = 0;
		let lastProblem = '';
		for (;;) {
			// One last check exactly at the deadline rather than giving up early, whether the job
			// was still running or the last check failed.
			if (nextCheckAt > deadline && deadline - Date.now() > 250) nextCheckAt = deadline;
			if (nextCheckAt > deadline) {
				throw this.timeout(requestId, itemIndex, limit, lastProblem);
			}
			await pause(nextCheckAt - Date.now(), this.signal);
			if (!(await this.pacer.acquire('status', deadline))) {
				// Bria's rate limit (Retry-After) or the cap leaves no turn before the deadline.
				const problem = lastProblem || 'Bria\'s rate limit left no turn to check before the max wait time';
				if (checkOnce) throw new NodeOperationError(this.node, `Could not check request ${requestId}: ${problem}`, { itemIndex });
				throw this.timeout(requestId, itemIndex, limit, problem);
			}
			const sentAt = Date.now();
			const response = await this.send('GET', path, itemIndex, Math.max(1_000, Math.min(STATUS_TIMEOUT_MS, deadline - sentAt)));
			let retryAfter: number | undefined;
			if (response.networkError) {
				lastProblem = `the last status check failed: ${response.networkError}`;
			} else {
				const code = response.statusCode;
				const body = asObject(response.body);
				if (code === 429) {
					retryAfter = this.pacer.throttled('status', retryAfterMs(response));
					lastProblem = 'Bria\'s rate limit (429) on status checks';
				} else if (code >= 500) {
					lastProblem = `the status service answered HTTP ${code}`;
				} else if (code !== 200) {
					throw apiError(this.node, response, { itemIndex, requestId, action: 'checking the job status' });
				} else if (!body || typeof body.status !== 'string') {
					lastProblem = `the status answer was not understood: ${preview(response.body)}`;
				} else {
					this.pacer.succeeded('status');
					const state: JobState = { ...body, request_id: String(body.request_id ?? requestId), status: body.status };
					if (state.status === 'COMPLETED') return state;
					if (state.status === 'ERROR' || state.status === 'UNKNOWN') throw this.jobFailed(state, itemIndex);
					if (checkOnce) return { ...state, status_url: `${this.baseUrl}${path}` };
					failures = 0;
					lastProblem = `Bria last reported ${state.status}`;
					// Timed from when this check was sent, so the request's own round trip does not
					// stretch the schedule (and the 2 s detection promise) on a slow link.
					nextCheckAt = Math.max(sentAt + pollDelayMs(sentAt - started), Date.now() + MIN_GAP_AFTER_ANSWER_MS);
					continue;
				}
			}
			failures++;
			if (checkOnce) {
				throw new NodeOperationError(this.node, `Could not check request ${requestId}: ${lastProblem}`, { itemIndex });
			}
			nextCheckAt = Date.now() + Math.max(retryAfter ?? 0, failureBackoffMs(failures));
		}
	}

	private async send(method: 'GET' | 'POST', path: string, itemIndex: number, timeoutMs: number, body?: IDataObject): Promise<BriaResponse> {
		return await sendToBria(this.ctx, this.baseUrl, { method, path, body, timeoutMs, itemIndex }, this.signal);
	}

	private timeout(requestId: string, itemIndex: number, limit: string, lastProblem: string) {
		const error = new NodeOperationError(
			this.node,
			`Bria did not finish request ${requestId} within ${limit}`,
			{
				itemIndex,
				description: `The job may still finish. Resume it with a Bria Tailored node: Resource "Request", Operation "Get Status", Request ID ${requestId}. ${lastProblem ? `Note: ${lastProblem}.` : ''}`.trim(),
			},
		);
		error.context.requestId = requestId;
		return error;
	}

	private jobFailed(state: JobState, itemIndex: number) {
		const { message, details } = briaErrorText(state);
		const unknown = state.status === 'UNKNOWN';
		const description = [
			unknown && message ? `Bria says: ${message}` : undefined,
			details ? `Details: ${details}` : undefined,
			`Request ID: ${state.request_id}${unknown ? ' (quote it to Bria support)' : ''}`,
		]
			.filter(Boolean)
			.join('\n');
		// A job-level failure, not an HTTP one (the status check answered 200): no HTTP code to show.
		const error = new NodeOperationError(
			this.node,
			unknown
				? `Bria reported an internal error (UNKNOWN) for request ${state.request_id}`
				: `Bria could not complete request ${state.request_id}${message ? `: ${message}` : ''}`,
			{ description, itemIndex },
		);
		error.context.requestId = state.request_id;
		return error;
	}
}

function asObject(value: unknown): Record<string, unknown> | undefined {
	return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function preview(body: unknown): string {
	const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
	return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
