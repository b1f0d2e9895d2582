import type { IDataObject, IExecuteFunctions, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { JobSpec } from '../actions/types';
import type { BriaResponse } from '../transport';
import { apiError, briaErrorText, CancelledError, retryAfterMs, sendToBria } from '../transport';
import { acceptedJob, forgetJob, jobKey, rememberJob } from './acceptedJobs';
import { CADENCE_MS, failureBackoffMs, FIRST_CHECK_MS, pollDelayMs } from './cadence';
import { now, sleep, TIMER_SLACK_MS } from './clock';
import { JobDurations } from './JobDurations';
import type { Endpoint, Lane, OrganizationBudget, Turn } from './Pacer';
import { Party, WINDOW_MS } from './Pacer';

/*
 * The one place that submits Bria jobs and waits for them, for all items of one node run. The
 * model is docs/SCHEDULER.md: the Pacer says who may send now (rules 1–5); this file says when a
 * job is checked (rules 6–9) and never bills a job twice (rule 10).
 */

/** A submit's answer is the only handle on a paid job: it gets this long, whatever is left of Max Wait Time. */
const SUBMIT_TIMEOUT_MS = 60_000;
const STATUS_TIMEOUT_MS = 30_000;
/** However slow an answer was, the next check waits at least this long after it. */
const MIN_GAP_AFTER_ANSWER_MS = 250;
/** A job whose submit answered at or past its deadline still gets one check within this. */
const LATE_ANSWER_CHECK_MS = 1_000;
/** Get Status without waiting rides out transient failures (5xx, reset, 429) for this long. */
const CHECK_ONCE_RETRY_MS = 15_000;
/** Rule 8: the first check of a kind never seen, when checks are scarce and no scout fits: Bria's jobs take a few seconds. */
export const TYPICAL_JOB_MS = 6_000;
/** Rule 10: a submit refused (429) this many times in a row fails rather than wait on (with `Retry-After`, minutes). */
const MAX_SUBMIT_REFUSALS = 10;
/** Rule 8: a scout polls at the cadence; this many checks of a typical job must fit beyond one per running job. */
const SCOUT_CHECKS = 4;

/** A job's state as the node reports it: Bria's body, with request_id always present. */
export interface JobState extends IDataObject {
	request_id: string;
	status: string;
}

/** Where a job's checks stand in its organization: what rules 7 and 8 read. */
interface Checks {
	durations: JobDurations;
	/** Jobs of the organization (in this process) still to be seen finished: submitted, or about to be. */
	running: number;
}

/** Per organization, beside its budget: the Pacer knows nothing of jobs. Gone with the budget. */
const checksOf = new WeakMap<OrganizationBudget, Checks>();

function organizationChecks(budget: OrganizationBudget): Checks {
	let checks = checksOf.get(budget);
	if (!checks) {
		checks = { durations: new JobDurations(), running: 0 };
		checksOf.set(budget, checks);
	}
	return checks;
}

/**
 * Rule 8: with checks scarce, the share of such jobs that should be done at their first check, so
 * that the jobs still running then can be checked again with the turns a window has beyond one per
 * running job (about two checks each): half when turns are plentiful, all when none are spare.
 */
export function surelyDoneShare(limit: number, running: number): number {
	const spare = Math.max(0, limit - running);
	return Math.min(1, Math.max(0.5, 1 - spare / (2 * Math.max(1, running))));
}

/** Thrown for an item whose submit was never sent because another item failed first (it gets no result). */
class SubmitStopped extends NodeOperationError {}

/** The Bria endpoint (and so the rate-limit lane) of a submit path. */
export function submitEndpoint(path: string): Endpoint {
	return path.includes('structured_prompt') ? 'structuredPromptSubmit' : 'imageSubmit';
}

/** What makes jobs take as long as each other: the endpoint, the model and the steps. */
function jobKind(job: JobSpec): string | undefined {
	if (!job.submit) return undefined;
	const body = job.submit.body;
	return [submitEndpoint(job.submit.path), body.tailored_model_id ?? '', body.steps_num ?? ''].join('|');
}

export class JobScheduler {
	/** This node run's place in the organization's budget (its turn in the round, its own cap). */
	private readonly party: Party;

	/** Fires at the first failure without Continue On Fail: no submit is sent after it. */
	private readonly stopSubmits = new AbortController();

	private readonly submitSignal: AbortSignal;

	private readonly node: INode;

	private readonly signal: AbortSignal | undefined;

	private readonly checks: Checks;

	/** request_id of every job this run submitted or resumed, by output slot (see `run`). */
	readonly requestIds = new Map<number, string>();

	constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly baseUrl: string,
		private readonly settings: { concurrency: number; requestsPerMinute: number },
		private readonly budget: OrganizationBudget,
	) {
		this.node = ctx.getNode();
		this.signal = ctx.getExecutionCancelSignal?.();
		this.party = new Party(settings.requestsPerMinute, this.node.name);
		this.submitSignal = this.signal ? AbortSignal.any([this.signal, this.stopSubmits.signal]) : this.stopSubmits.signal;
		this.checks = organizationChecks(budget);
	}

	/**
	 * Runs `task` for slots 0…count-1: all at once, or at most `concurrency` (when set) at once. Results
	 * keep slot order. With `stopOnError`, no submit is sent after a failure (slots not started,
	 * waiting for a turn or to resubmit after a 429 alike); jobs already submitted finish (they are
	 * paid for) and slots whose submit was never sent have no result.
	 */
	async forEach<T>(
		count: number,
		task: (slot: number) => Promise<T>,
		stopOnError: boolean,
	): Promise<Array<{ value: T } | { error: Error } | undefined>> {
		const results: Array<{ value: T } | { error: Error } | undefined> = new Array(count).fill(undefined);
		let next = 0;
		let failed = false;
		// Every job of this run will need checks, from now until its slot ends (rule 8 counts them).
		let unfinished = count;
		this.checks.running += count;
		const worker = async () => {
			while (next < count && !(stopOnError && failed) && !this.signal?.aborted) {
				const slot = next++;
				try {
					results[slot] = { value: await task(slot) };
				} catch (error) {
					if (error instanceof SubmitStopped) continue;
					failed = true;
					if (stopOnError) this.stopSubmits.abort();
					results[slot] = { error: error as Error };
				} finally {
					unfinished--;
					this.checks.running--;
				}
			}
		};
		const workers = this.settings.concurrency > 0 ? Math.min(this.settings.concurrency, count) : count;
		try {
			await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
		} finally {
			this.checks.running -= unfinished;
		}
		if (this.signal?.aborted) throw new NodeOperationError(this.node, 'The execution was cancelled');
		return results;
	}

	/**
	 * Submits (or resumes) one job and, when asked, waits for its final state. A submit waits for its
	 * turn as long as the plan needs (a big batch on a small plan takes its time), bounded only by
	 * `hardDeadline` (the workflow's timeout, named `hardLimit`) and Stop; Max Wait Time then bounds
	 * the wait for the job, counted from Bria's answer. `slot` is the job's output slot (its
	 * request_id is kept there), `itemIndex` its input item, `variant` its place among that item's jobs.
	 */
	async run(
		job: JobSpec,
		place: { slot: number; itemIndex: number; variant: number },
		hardDeadline = Infinity,
		hardLimit = '',
	): Promise<JobState> {
		const { slot, itemIndex } = place;
		let requestId = job.requestId;
		const key = job.submit
			? jobKey({
					executionId: String(this.ctx.getExecutionId?.() ?? ''),
					node: this.node.name,
					// n8n re-runs a node for Retry On Fail under the same run index; a loop's next pass has a new one.
					runIndex: (this.ctx as { runIndex?: number }).runIndex ?? 0,
					itemIndex,
					variant: place.variant,
					path: job.submit.path,
					body: job.submit.body,
				})
			: undefined;
		const resumed = acceptedJob(key);
		if (resumed === '') throw this.mayBeAccepted(itemIndex, 'an earlier try of this node in this execution lost the answer to its submit', true);
		if (resumed) requestId = resumed;
		else if (job.submit) {
			const accepted = await this.submit(job, itemIndex, hardDeadline, hardLimit).catch((error: unknown) => {
				// No answer: Bria may have accepted (and billed) it. A retry of the node must not send it again.
				if (error instanceof SubmitAnswerLost) rememberJob(key, '');
				throw error;
			});
			if (accepted.request_id) {
				this.requestIds.set(slot, accepted.request_id);
				rememberJob(key, accepted.request_id);
			}
			if (accepted.status === 'COMPLETED' || !job.waitForCompletion) return accepted;
			requestId = accepted.request_id;
		}
		if (!requestId) throw new NodeOperationError(this.node, 'No request ID to check', { itemIndex });
		this.requestIds.set(slot, requestId);
		const maxWaitDeadline = now() + job.maxWaitMs;
		const [deadline, limit] =
			hardDeadline < maxWaitDeadline ? [hardDeadline, hardLimit] : [maxWaitDeadline, `the max wait time (${seconds(job.maxWaitMs)} s)`];
		const kind = resumed ? undefined : jobKind(job);
		// A submit's answer has its own budget and may come at or past the workflow's timeout: the job
		// then still gets one check, at once (it may well be done, and paid), before the timeout.
		const answeredLate = hardDeadline - now() < LATE_ANSWER_CHECK_MS;
		return await this.waitFor(requestId, itemIndex, deadline, !job.waitForCompletion, limit, kind, answeredLate).catch((error: unknown) => {
			// The job itself failed (ERROR, UNKNOWN): a retry of the node is for it, so it goes again.
			if (error instanceof JobFailed) forgetJob(key);
			throw error;
		});
	}

	private async submit(job: JobSpec, itemIndex: number, deadline: number, limit: string): Promise<JobState> {
		const action = 'submitting the job';
		const lane = this.budget.lane(submitEndpoint(job.submit!.path));
		for (let throttled = 0; ; throttled++) {
			const turn = await this.turn(lane, { deadline, signal: this.submitSignal });
			if (!turn) throw this.noTurnToSubmit(itemIndex, throttled, limit);
			// The answer is the only handle on a paid job: it gets its own budget, not what is left
			// of Max Wait Time (that bounds the wait for the job, which starts after this answer).
			const response = await this.sendWithTurn(turn, 'POST', job.submit!.path, itemIndex, SUBMIT_TIMEOUT_MS, job.submit!.body);
			if (response.networkError) {
				// The request may have reached Bria: repeating it could start (and bill) a second job.
				throw this.mayBeAccepted(itemIndex, response.networkError);
			}
			if (response.statusCode === 429) {
				// Bria did not accept it: a wait for a turn like any other (Max Wait Time starts at the
				// answer), bounded by the workflow's timeout, and by refusals in a row: each one shrank the
				// lane to what Bria accepted, so that many means something beyond the plan's window.
				const wait = turn.throttled(retryAfterMs(response));
				const refusedTooOften = throttled + 1 >= MAX_SUBMIT_REFUSALS;
				if (!refusedTooOften && now() + wait < deadline) continue;
				const why = refusedTooOften ? `Bria refused it ${MAX_SUBMIT_REFUSALS} times in a row` : `the rate limit lasts past ${limit}`;
				throw apiError(this.node, response, { itemIndex, action: `${action}; gave up: ${why}` });
			}
			if (response.statusCode !== 200 && response.statusCode !== 202) {
				throw apiError(this.node, response, { itemIndex, action });
			}
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
			return {
				request_id: requestId,
				status: 'IN_PROGRESS',
				status_url: typeof body?.status_url === 'string' ? body.status_url : `${this.baseUrl}/v2/status/${requestId}`,
			};
		}
	}

	/** Checks the job until it ends or `deadline` passes; with `checkOnce`, until one check answers. */
	private async waitFor(
		requestId: string,
		itemIndex: number,
		waitDeadline: number,
		checkOnce: boolean,
		limit: string,
		/** Kind of a job just submitted (its duration is learned); undefined when resuming one. */
		kind?: string,
		answeredLate = false,
	): Promise<JobState> {
		const path = `/v2/status/${encodeURIComponent(requestId)}`;
		const lane = this.budget.lane('status');
		const started = now();
		let deadline = answeredLate ? started + LATE_ANSWER_CHECK_MS : waitDeadline;
		if (checkOnce) deadline = Math.min(deadline, started + CHECK_ONCE_RETRY_MS);
		let scout = false;
		let checks = 0;
		let runningAt: number | undefined;
		let failures = 0;
		let lastProblem = '';
		try {
			let nextCheckAt = started;
			// A resumed job may have finished long ago: it is checked at once, then at the cadence.
			if (!checkOnce && kind !== undefined && !answeredLate) {
				({ at: nextCheckAt, scout } = await this.firstCheck(lane, kind, started, deadline));
			}
			for (;;) {
				if (answeredLate && checks > 0) throw this.timeout(requestId, itemIndex, limit, lastProblem);
				// One last check exactly at the deadline rather than giving up early (and always a first one).
				if (nextCheckAt > deadline && (checks === 0 || deadline - now() > MIN_GAP_AFTER_ANSWER_MS)) nextCheckAt = Math.max(now(), deadline);
				if (nextCheckAt > deadline) {
					if (checkOnce) throw this.notChecked(requestId, itemIndex, lastProblem);
					throw this.timeout(requestId, itemIndex, limit, lastProblem);
				}
				const turn = await this.turn(lane, { dueAt: nextCheckAt, deadline, signal: this.signal });
				if (!turn) {
					const problem = lastProblem || 'Bria\'s rate limit left no turn to check in time';
					if (checkOnce) throw this.notChecked(requestId, itemIndex, problem);
					throw this.timeout(requestId, itemIndex, limit, problem);
				}
				const sentAt = now();
				checks++;
				const response = await this.sendWithTurn(turn, 'GET', path, itemIndex, Math.max(1_000, Math.min(STATUS_TIMEOUT_MS, deadline - sentAt)));
				let retryAfter: number | undefined;
				if (response.networkError) {
					lastProblem = `the last status check failed: ${response.networkError}`;
				} else {
					const code = response.statusCode;
					const body = asObject(response.body);
					if (code === 429) {
						retryAfter = turn.throttled(retryAfterMs(response));
						lastProblem = 'Bria\'s rate limit (429) on status checks';
					} else if (code >= 500) {
						lastProblem = `the status service answered HTTP ${code}`;
					} else if (code !== 200) {
						throw apiError(this.node, response, { itemIndex, requestId, action: 'checking the job status' });
					} else if (!body || typeof body.status !== 'string') {
						lastProblem = `the status answer was not understood: ${preview(response.body)}`;
					} else {
						const state: JobState = { ...body, request_id: String(body.request_id ?? requestId), status: body.status };
						if (state.status === 'COMPLETED') {
							if (kind !== undefined) this.checks.durations.learn(kind, { runningAtMs: runningAt, doneAtMs: sentAt - started });
							return state;
						}
						if (state.status === 'ERROR' || state.status === 'UNKNOWN') throw this.jobFailed(state, itemIndex);
						if (checkOnce) return { ...state, status_url: `${this.baseUrl}${path}` };
						failures = 0;
						runningAt = sentAt - started;
						lastProblem = `Bria last reported ${state.status}`;
						// Rule 6, timed from when this check was sent, so the round trip does not stretch it.
						nextCheckAt = Math.max(sentAt + pollDelayMs(sentAt - started), now() + MIN_GAP_AFTER_ANSWER_MS);
						continue;
					}
				}
				// Rule 9.
				failures++;
				nextCheckAt = now() + Math.max(retryAfter ?? 0, failureBackoffMs(failures));
			}
		} finally {
			if (scout) this.checks.durations.scoutDone(kind!);
		}
	}

	/**
	 * Rules 7 and 8: when to check a job just submitted first. Judged again when that moment comes,
	 * or news of its kind does (learned, or its scout ended): in a burst, the jobs submitted a moment
	 * later count too.
	 */
	private async firstCheck(lane: Lane, kind: string, started: number, deadline: number): Promise<{ at: number; scout: boolean }> {
		const durations = this.checks.durations;
		for (;;) {
			const limit = lane.capacity();
			const running = this.checks.running;
			// A known limit (the plan, or taught by a 429) is scarce when it cannot check every running
			// job every 2 s; a floor the lane may grow past only when the jobs outnumber even its turns.
			const scarce = lane.limitKnown() ? running * (WINDOW_MS / CADENCE_MS) > limit : running > limit;
			const learned = scarce ? durations.surelyDoneMs(kind, surelyDoneShare(limit, running)) : durations.firstCheckMs(kind);
			let at = started + (learned ?? FIRST_CHECK_MS);
			if (scarce && learned === undefined && at <= now() + TIMER_SLACK_MS) {
				// One scout polls to learn the kind, if the lane has turns for it beyond one per running job.
				if (lane.freeTurns() >= running + SCOUT_CHECKS && durations.claimScout(kind)) return { at, scout: true };
				// The others wait for what it learns, at most their share of the lane (every running job is
				// checked at least that often); with no scout, a typical job's time.
				at = started + (durations.hasScout(kind) ? Math.max(FIRST_CHECK_MS, (WINDOW_MS * running) / limit) : TYPICAL_JOB_MS);
			}
			const wait = at - now();
			if (wait <= TIMER_SLACK_MS || at > deadline) return { at, scout: false };
			await this.untilNews(kind, wait);
		}
	}

	/** Waits `ms`, or less when `kind` is learned or its scout ends. */
	private async untilNews(kind: string, ms: number): Promise<void> {
		const news = new AbortController();
		const stopListening = this.checks.durations.onNews(kind, () => news.abort());
		const stopWaiting = this.signal ? AbortSignal.any([this.signal, news.signal]) : news.signal;
		// News ends the wait early (not an error); only the execution's Stop is one.
		await sleep(ms, stopWaiting)
			.catch((error: unknown) => {
				if (this.signal?.aborted) throw error;
			})
			.finally(stopListening);
	}

	/** A turn on `lane`; a stopped batch's submit becomes SubmitStopped (never sent, no result). */
	private async turn(lane: Lane, request: { dueAt?: number; deadline: number; signal?: AbortSignal }): Promise<Turn | undefined> {
		return await lane.acquire({ party: this.party, ...request }).catch((error: unknown) => {
			if (error instanceof CancelledError && this.stopSubmits.signal.aborted && !this.signal?.aborted) {
				throw new SubmitStopped(this.node, 'Not sent: another item failed first');
			}
			throw error;
		});
	}

	/** Sends on a granted turn and tells the lane how it went (429s are told by the caller). */
	private async sendWithTurn(
		turn: Turn,
		method: 'GET' | 'POST',
		path: string,
		itemIndex: number,
		timeoutMs: number,
		body?: IDataObject,
	): Promise<BriaResponse> {
		let response: BriaResponse | undefined;
		try {
			response = await sendToBria(this.ctx, this.baseUrl, { method, path, body, timeoutMs, itemIndex }, this.signal);
			return response;
		} finally {
			if (!response || response.networkError) turn.unanswered();
			else if (response.statusCode !== 429) turn.answered();
		}
	}

	private noTurnToSubmit(itemIndex: number, throttled: number, limit: string): NodeOperationError {
		// Only the workflow's timeout (or its having passed before this item's turn) ends a submit's wait.
		return new NodeOperationError(this.node, `No turn to submit the job within ${limit || 'the time it had'}`, {
			itemIndex,
			description: `${throttled ? `Bria answered 429 (rate limit) ${throttled} time(s). ` : ''}The plan's rate limit (or this node's Requests per Minute cap) had no turn for this item before then; no job was started for it. Raise the workflow's timeout, or state your plan on the Bria API credential so turns are not spent on 429s.`,
		});
	}

	/** A submit whose answer never came: Bria may have accepted it, so it is not sent again, on a retry neither. */
	private mayBeAccepted(itemIndex: number, why: string, onRetry = false): SubmitAnswerLost {
		return new SubmitAnswerLost(this.node, { message: why } as JsonObject, {
			message: onRetry ? `Not submitted again: ${why}` : `Could not submit the job to Bria: ${why}`,
			description:
				'Not retried automatically, by the node or by n8n\'s Retry On Fail: Bria may have accepted the request, and every submit is a billed job. Check your Bria dashboard before running this item again.',
			itemIndex,
		});
	}

	private timeout(requestId: string, itemIndex: number, limit: string, lastProblem: string) {
		const error = new NodeOperationError(this.node, `Bria did not finish request ${requestId} within ${limit}`, {
			itemIndex,
			description: `The job may still finish. Resume it with a Bria Tailored node: Resource "Request", Operation "Get Status", Request ID ${requestId}. ${lastProblem ? `Note: ${lastProblem}.` : ''}`.trim(),
		});
		error.context.requestId = requestId;
		return error;
	}

	private notChecked(requestId: string, itemIndex: number, problem: string) {
		const error = new NodeOperationError(this.node, `Could not check request ${requestId}: ${problem}`, {
			itemIndex,
			description: `Get Status without waiting rides out such failures for up to ${CHECK_ONCE_RETRY_MS / 1000} s. The job is unaffected: check it again later with Request → Get Status, Request ID ${requestId}.`,
		});
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
		const error = new JobFailed(
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

/** A job Bria ran and reported ERROR or UNKNOWN: it is over, and a retry may submit it again. */
class JobFailed extends NodeOperationError {}

/** A submit that got no answer: Bria may have accepted it, and no retry sends it again. */
class SubmitAnswerLost extends NodeApiError {}

/** Seconds for a message: whole above 10, else to a tenth (a Max Wait Time of 0.5 s says 0.5). */
function seconds(ms: number): string {
	return ms >= 10_000 ? String(Math.round(ms / 1000)) : String(Math.round(ms / 100) / 10);
}

function asObject(value: unknown): Record<string, unknown> | undefined {
	return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function preview(body: unknown): string {
	const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
	return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
