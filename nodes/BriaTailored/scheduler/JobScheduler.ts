import type { IDataObject, IExecuteFunctions, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { JobSpec } from '../actions/types';
import type { BriaResponse } from '../transport';
import { apiError, briaErrorText, CancelledError, retryAfterMs, sendToBria } from '../transport';
import type { Endpoint, Lane, OrganizationBudget, Turn } from './Pacer';
import { budgetNow, budgetSleep, CADENCE_CHECKS_PER_JOB, Party } from './Pacer';

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
/** How long a job whose submit answered at or past its deadline still has for its one check. */
const LATE_ANSWER_CHECK_MS = 1_000;
const STATUS_TIMEOUT_MS = 30_000;

/** A job's state as the node reports it: Bria's body, with request_id always present. */
export interface JobState extends IDataObject {
	request_id: string;
	status: string;
}

/**
 * Under a tight known limit, a kind of job never seen done is first checked this far in (Bria's
 * jobs take a few seconds), or a little past the slowest job of any kind seen done in the process.
 */
export const SCARCE_UNLEARNED_FIRST_CHECK_MS = 6_000;
const SCARCE_UNLEARNED_SLOWEST_FACTOR = 1.2;
/** A first check this late past its learned moment was not placed by it. */
const LEARNED_MOMENT_TOLERANCE_MS = 250;
/** A timer may fire a millisecond or two early. */
const TIMER_SLACK_MS = 2;

interface FirstCheck {
	at: number;
	/** Placed by the learned first-check moment (its outcome trains it). */
	learned: boolean;
	/** This job polls at the cadence to learn its kind for the others; ends the scouting when done. */
	scout: boolean;
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
	/** This node run's place in the organization's budget (its fair share, its own cap). */
	private readonly party: Party;

	/** Fires at the first failure without Continue On Fail: no submit is sent after it. */
	private readonly stopSubmits = new AbortController();

	private readonly submitSignal: AbortSignal;

	private readonly node: INode;

	private readonly signal: AbortSignal | undefined;

	/** Items of this run not started yet (concurrency): jobs that will need their share of checks. */
	private itemsNotStarted = 0;

	/** request_id of every job this execution submitted or resumed, by item index. */
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
	}

	/**
	 * Runs `task` for item indexes 0…count-1, at most `concurrency` at once. Results keep input
	 * order. With `stopOnError`, no submit is sent after a failure (items not started, waiting for
	 * a turn or waiting to resubmit after a 429 alike); jobs already submitted finish (they are
	 * paid for) and items whose submit was never sent have no result.
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
				this.itemsNotStarted = count - next;
				try {
					results[itemIndex] = { value: await task(itemIndex) };
				} catch (error) {
					if (error instanceof SubmitStopped) continue;
					failed = true;
					if (stopOnError) this.stopSubmits.abort();
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
		return await this.waitFor(requestId, itemIndex, deadline, !job.waitForCompletion, limit, jobKind(job));
	}

	private async submit(job: JobSpec, itemIndex: number, deadline: number): Promise<JobState> {
		const action = 'submitting the job';
		const lane = this.budget.lane(submitEndpoint(job.submit!.path));
		for (let throttled = 0; ; throttled++) {
			const turn = await this.turn(lane, { deadline, signal: this.submitSignal });
			if (!turn) {
				throw new NodeOperationError(this.node, 'No turn to submit the job within the max wait time', {
					itemIndex,
					description: `${throttled ? `Bria answered 429 (rate limit) ${throttled} time(s). ` : ''}Bria's rate limit or this node's Requests per Minute cap left no turn in time; no job was started for this item. Raise Max Wait Time, lower Concurrency or set Requests per Minute.`,
				});
			}
			// The answer is the only handle on a paid job: it gets its own budget, not what is left
			// of Max Wait Time (that bounds the wait for the job, which starts after this answer).
			const response = await this.sendWithTurn(turn, 'POST', job.submit!.path, itemIndex, SUBMIT_TIMEOUT_MS, job.submit!.body);
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
				const wait = turn.throttled(retryAfterMs(response));
				if (budgetNow() + wait < deadline) continue;
				throw apiError(this.node, response, { itemIndex, action: `${action}; gave up: the rate limit lasts past the max wait time` });
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
		waitDeadline: number,
		checkOnce: boolean,
		limit: string,
		/** Kind of a job just submitted (its duration is learned); undefined when resuming one. */
		kind?: string,
	): Promise<JobState> {
		const path = `/v2/status/${encodeURIComponent(requestId)}`;
		const lane = this.budget.lane('status');
		const durations = this.budget.durations;
		const started = budgetNow();
		// A submit's answer has its own budget and may arrive at or after the wait's deadline: the job
		// still gets one check, at once (it may well be done, and paid), before a timeout that would
		// say it is not.
		const answeredLate = waitDeadline - started < LATE_ANSWER_CHECK_MS;
		const deadline = answeredLate ? started + LATE_ANSWER_CHECK_MS : waitDeadline;
		// Counted before planning its first check: whether checks are scarce includes this job.
		lane.activeJobs++;
		let firstCheck: FirstCheck = { at: started, learned: false, scout: false };
		let checks = 0;
		let runningAt = 0;
		let failures = 0;
		let lastProblem = '';
		try {
			// A resumed job may have finished long ago: check it at once, then follow the schedule.
			if (!checkOnce && kind !== undefined && !answeredLate) firstCheck = await this.firstCheck(lane, kind, started, deadline);
			let nextCheckAt = firstCheck.at;
			for (;;) {
				if (answeredLate && checks > 0) throw this.timeout(requestId, itemIndex, limit, lastProblem);
				// One last check exactly at the deadline rather than giving up early, whether the job
				// was still running or the last check failed.
				if (nextCheckAt > deadline && deadline - budgetNow() > 250) nextCheckAt = deadline;
				if (nextCheckAt > deadline) {
					throw this.timeout(requestId, itemIndex, limit, lastProblem);
				}
				const turn = await this.turn(lane, { dueAt: nextCheckAt, deadline, signal: this.signal });
				if (!turn) {
					// Bria's rate limit (Retry-After) or the cap leaves no turn before the deadline.
					const problem = lastProblem || 'Bria\'s rate limit left no turn to check before the max wait time';
					if (checkOnce) throw new NodeOperationError(this.node, `Could not check request ${requestId}: ${problem}`, { itemIndex });
					throw this.timeout(requestId, itemIndex, limit, problem);
				}
				const sentAt = budgetNow();
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
							if (kind !== undefined) {
								durations.learn(kind, {
									runningAtMs: runningAt,
									doneAtMs: sentAt - started,
									firstCheckWasLearned: firstCheck.learned,
									doneAtFirstCheck: checks === 1,
								});
							}
							return state;
						}
						if (state.status === 'ERROR' || state.status === 'UNKNOWN') throw this.jobFailed(state, itemIndex);
						if (checkOnce) return { ...state, status_url: `${this.baseUrl}${path}` };
						failures = 0;
						runningAt = sentAt - started;
						lastProblem = `Bria last reported ${state.status}`;
						// Timed from when this check was sent, so the request's own round trip does not
						// stretch the schedule (and the 2 s detection promise) on a slow link. When checks
						// are scarce, no job is checked more often than its share of the lane.
						const cadenceAt = Math.max(sentAt + pollDelayMs(sentAt - started), budgetNow() + MIN_GAP_AFTER_ANSWER_MS);
						// A scout's checks at the cadence were budgeted when it was made one (a typical job's worth).
						const scouting = firstCheck.scout && checks < CADENCE_CHECKS_PER_JOB;
						nextCheckAt = scouting ? cadenceAt : await this.followUpAt(lane, sentAt, cadenceAt, deadline);
						continue;
					}
				}
				failures++;
				if (checkOnce) {
					throw new NodeOperationError(this.node, `Could not check request ${requestId}: ${lastProblem}`, { itemIndex });
				}
				nextCheckAt = budgetNow() + Math.max(retryAfter ?? 0, failureBackoffMs(failures));
			}
		} finally {
			lane.activeJobs--;
			if (firstCheck.scout) durations.scoutDone(kind!);
		}
	}

	/**
	 * When to check a job just submitted first. Learned kinds: where about a third of them are
	 * done (checks plentiful) or where all have been seen done (checks scarce). A kind not learned
	 * yet: 1.5 s in when the budget lets every waiting job be checked at the cadence through a
	 * typical job; else, at that moment, one job (the scout) polls at the cadence if the budget has
	 * room for it beyond one check per job, and the others wait for what it learns, or for a guess
	 * (a little past the slowest job seen, or a few seconds), rather than spend the window on jobs
	 * still running. Re-judged whenever it comes due or the kind is learned: in a burst, the jobs
	 * submitted a moment later count too.
	 */
	private async firstCheck(lane: Lane, kind: string, started: number, deadline: number): Promise<FirstCheck> {
		const durations = this.budget.durations;
		for (;;) {
			const now = budgetNow();
			const scarce = lane.scarce();
			const learned = scarce ? durations.surelyDoneMs(kind) : durations.firstCheckMs(kind);
			let at = started + (learned ?? pollDelayMs(0));
			let scout = false;
			if (learned === undefined && now >= at - TIMER_SLACK_MS) {
				const budget = lane.budgetPerWindow();
				if (lane.activeJobs * CADENCE_CHECKS_PER_JOB > budget) {
					// One scout, if its checks fit beyond one per job, counting jobs about to come (submits
					// waiting for a turn, this run's items not started): the others follow what it learns.
					const room = budget - lane.activeJobs - this.budget.waitingSubmits() - this.itemsNotStarted;
					if (room >= CADENCE_CHECKS_PER_JOB && durations.claimScout(kind, 1)) scout = true;
					else {
						const slowest = durations.slowestSeenMs();
						at = started + (slowest === undefined ? SCARCE_UNLEARNED_FIRST_CHECK_MS : SCARCE_UNLEARNED_SLOWEST_FACTOR * slowest);
					}
				}
			}
			if (scout || at <= now + TIMER_SLACK_MS || at > deadline) {
				// Only a check sent at the learned moment says where that moment stands (not one overdue
				// because the kind was learned after it).
				return { at, learned: learned !== undefined && !scarce && now - at <= LEARNED_MOMENT_TOLERANCE_MS, scout };
			}
			await this.untilNews(kind, at - now);
		}
	}

	/** Waits `ms`, or less when `kind` is learned or its scout ends. */
	private async untilNews(kind: string, ms: number): Promise<void> {
		let stopListening = () => {};
		const news = new Promise<void>((resolve) => {
			stopListening = this.budget.durations.onNews(kind, resolve);
		});
		const sleep = budgetSleep(ms, this.signal);
		// Settled either way; when the news wins, the sleep's later end (or cancel) is not an error.
		sleep.catch(() => undefined);
		try {
			await Promise.race([sleep, news]);
		} finally {
			stopListening();
		}
	}

	/**
	 * When to check a running job next: at the cadence, or later by its fair share while checks are
	 * scarce. Scarcity is judged again at the cadence's moment (and every cadence after), not only
	 * when the last answer came: in a burst, the jobs found done a moment later no longer count.
	 */
	private async followUpAt(lane: Lane, sentAt: number, cadenceAt: number, deadline: number): Promise<number> {
		for (;;) {
			const at = Math.max(cadenceAt, sentAt + lane.followUpShareMs());
			const now = budgetNow();
			if (at <= cadenceAt || at > deadline) return at;
			if (now >= at) return at;
			await budgetSleep(Math.min(at, Math.max(cadenceAt, now + pollDelayMs(FIRST_CHECK_MS))) - now, this.signal);
		}
	}

	/** A turn on `lane`; a stopped batch's submit becomes SubmitStopped (never sent, no result). */
	private async turn(lane: Lane, request: { dueAt?: number; deadline: number; signal?: AbortSignal }): Promise<Turn | undefined> {
		const stopped = async (error: unknown): Promise<never> =>
			await Promise.reject(
				error instanceof CancelledError && this.stopSubmits.signal.aborted && !this.signal?.aborted ? new SubmitStopped(this.node, 'Not sent: another item failed first') : error,
			);
		return await lane.acquire({ party: this.party, ...request }).catch(stopped);
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
			response = await this.send(method, path, itemIndex, timeoutMs, body);
			return response;
		} finally {
			if (!response || response.networkError) turn.unanswered();
			else if (response.statusCode !== 429) turn.answered();
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
