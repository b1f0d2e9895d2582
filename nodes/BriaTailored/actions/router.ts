import type { IDataObject, IExecuteFunctions, INode, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { now } from '../scheduler/clock';
import { JobScheduler } from '../scheduler/JobScheduler';
import { credentialBudget } from '../scheduler/Pacer';
import { getBaseUrl } from '../transport';
import { findOperation } from './operations';
import { batchSettings } from './shared/parameters';
import { runsAsAgentTool, toOutputItem } from './shared/output';
import type { JobSpec } from './types';

/*
 * Runs the node: every item is validated first (a bad item never costs a request), then the
 * valid items' jobs run through one scheduler. Output keeps input order, one item per input.
 * Without "Continue On Fail", the first failure stops new submits, lets jobs already submitted
 * finish (they are paid for), and is raised with their request IDs so none is lost.
 */
export async function route(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	// As an agent's tool, a failure is the tool's answer: the model gets it as a result it can read
	// and act on (Agent 2.x hands it an empty result for a thrown error).
	const continueOnFail = this.continueOnFail() || runsAsAgentTool(this);

	// Plain reads (the Model resource) are no Bria jobs: each item runs here, in input order, and
	// may give several output items. A failed item becomes an error item, or stops the node.
	const read = items.length ? findOperation(this.getNodeParameter('resource', 0) as string, this.getNodeParameter('operation', 0) as string) : undefined;
	if (read?.execute) {
		const output: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			const outcome = await read.execute(this, itemIndex).catch((error: Error) => error);
			if (!(outcome instanceof Error)) output.push(...outcome);
			else if (continueOnFail && !this.getExecutionCancelSignal?.()?.aborted) output.push(errorItem(this.getNode(), outcome, itemIndex));
			else throw outcome;
		}
		return [output];
	}

	const jobs: Array<JobSpec | Error> = items.map((_, itemIndex) => {
		try {
			const resource = this.getNodeParameter('resource', itemIndex) as string;
			const operation = this.getNodeParameter('operation', itemIndex) as string;
			const op = findOperation(resource, operation);
			if (!op?.prepare) throw new NodeOperationError(this.getNode(), `Unsupported operation "${resource}: ${operation}"`, { itemIndex });
			return op.prepare(this, itemIndex);
		} catch (error) {
			return error as Error;
		}
	});
	const invalid = jobs.find((job): job is Error => job instanceof Error);
	if (invalid && !continueOnFail) throw invalid;

	// Node-wide settings (credential base URL, concurrency, rate cap) fail every item alike.
	const setup = await Promise.resolve()
		.then(async () => {
			const baseUrl = await getBaseUrl(this);
			return { baseUrl, settings: batchSettings(this), budget: await credentialBudget(this, baseUrl) };
		})
		.catch((error: Error) => error);
	if (setup instanceof Error) {
		if (!continueOnFail) throw setup;
		return [items.map((_, itemIndex) => errorItem(this.getNode(), setup, itemIndex))];
	}
	const scheduler = new JobScheduler(this, setup.baseUrl, setup.settings, setup.budget);
	const workflowLimit = workflowTimeout(this);
	// One output slot per job: an item asking for N images (Images per Item) has N, in input order.
	const slots = jobs.flatMap((job, itemIndex) =>
		Array.from({ length: job instanceof Error ? 1 : job.copies ?? 1 }, (_, variant) => ({ job, itemIndex, variant })),
	);
	const namedJobs = (): NamedJob[] =>
		[...scheduler.requestIds].map(([slot, id]) => {
			const { job, itemIndex, variant } = slots[slot];
			const several = !(job instanceof Error) && (job.copies ?? 1) > 1;
			return [`item ${itemIndex}${several ? ` (image ${variant + 1})` : ''}`, id];
		});
	const outcomes = await scheduler
		.forEach(
			slots.length,
			async (slot) => {
				const { job, itemIndex, variant } = slots[slot];
				if (job instanceof Error) throw job;
				const variation = variantOf(job, variant);
				const state = await scheduler.run(variation, { slot, itemIndex, variant }, workflowLimit.deadline, workflowLimit.name);
				try {
					return await toOutputItem(this, state, variation, itemIndex, workflowLimit.deadline);
				} catch (error) {
					throw withRequestId(this.getNode(), error as Error, state.request_id, itemIndex);
				}
			},
			!continueOnFail,
		)
		.catch((error: Error) => {
			throw stopped(this, error, namedJobs());
		});

	if (!continueOnFail) {
		const firstError = outcomes.find((outcome): outcome is { error: Error } => !!outcome && 'error' in outcome);
		if (firstError) throw withOtherJobs(firstError.error, namedJobs());
	}
	return [
		outcomes.map((outcome, slot): INodeExecutionData => {
			if (outcome && 'value' in outcome) return outcome.value;
			return errorItem(this.getNode(), outcome?.error ?? new Error('Not run'), slots[slot].itemIndex);
		}),
	];
}

/*
 * The n-th of an item's jobs (Images per Item). With a seed, job n gets seed + n: a Recreate then
 * gives N controlled variations of one scene; without one, Bria picks each job's seed.
 */
function variantOf(job: JobSpec, variant: number): JobSpec {
	const seed = job.submit?.body.seed;
	if (!variant || typeof seed !== 'number') return job;
	return { ...job, submit: { ...job.submit!, body: { ...job.submit!.body, seed: seed + variant } } };
}

/*
 * Whatever fails after Bria accepted a job (storing the image, an n8n helper) still names the job:
 * its request_id is the only handle on a paid result.
 */
function withRequestId(node: INode, error: Error, requestId: string, itemIndex: number): Error {
	if (!requestId) return error;
	const context = (error as { context?: IDataObject }).context;
	if (context) {
		context.requestId ??= requestId;
		return error;
	}
	const wrapped = new NodeOperationError(node, error, {
		itemIndex,
		description: `Bria finished the job, but storing its result failed. Request ID: ${requestId}: fetch it again with Request → Get Status.`,
	});
	wrapped.context.requestId = requestId;
	return wrapped;
}

/*
 * The error item of "Continue On Fail", for both continue modes. The fields are the same — the
 * message, Bria's explanation, and what identifies a paid job — only their place differs:
 * - regular output: at the top of `json`, beside the results (as before);
 * - error output: under `json.error`, because n8n's engine routes an item there only when its json
 *   holds nothing but `error` (an `error` on the item itself would make n8n replace the json with
 *   the bare message, losing the request_id).
 */
function errorItem(node: INode, error: Error, itemIndex: number): INodeExecutionData {
	const fields = errorJson(error);
	if (node.onError !== 'continueErrorOutput') return { json: fields, pairedItem: { item: itemIndex } };
	const { error: message, ...rest } = fields;
	return { json: { error: { message, ...rest } }, pairedItem: { item: itemIndex } };
}

function errorJson(error: Error): IDataObject {
	const context = (error as { context?: IDataObject }).context ?? {};
	const description = (error as { description?: string }).description;
	return {
		error: error.message,
		...(description ? { description } : {}),
		...(context.requestId ? { request_id: context.requestId } : {}),
		...(context.imageUrl ? { image_url: context.imageUrl } : {}),
	};
}

/** A job Bria accepted, named for the user: "item 3 → <request_id>" ("item 3 (image 2) → …" with Images per Item). */
type NamedJob = [label: string, requestId: string];

function withOtherJobs(error: Error, jobs: NamedJob[]): Error {
	const ownId = (error as { context?: IDataObject }).context?.requestId;
	const others = jobs.filter(([, id]) => id !== ownId);
	if (!others.length) return error;
	const note = `Jobs of other items were submitted and may have finished: ${others
		.map(([label, id]) => `${label} → ${id}`)
		.join(', ')}. Fetch them with Request → Get Status, or turn on "Continue On Fail" to keep every item's result.`;
	const withDescription = error as { description?: string | null };
	withDescription.description = withDescription.description ? `${withDescription.description}\n${note}` : note;
	return error;
}

/*
 * The workflow's own timeout (Workflow Settings → Timeout Workflow, in seconds; -1 or unset: none),
 * counted from when this node starts. A queue-mode worker checks that timeout only between nodes and
 * never tells a waiting node, so without this a timed-out execution would poll Bria until Max Wait
 * Time. In regular mode n8n's own timer usually cancels the execution first; this is the backstop.
 */
function workflowTimeout(ctx: IExecuteFunctions): { deadline: number; name: string } {
	const seconds = Number(ctx.getWorkflowSettings?.()?.executionTimeout);
	if (!Number.isFinite(seconds) || seconds <= 0) return { deadline: Infinity, name: '' };
	return { deadline: now() + seconds * 1000, name: `the workflow's timeout (${Math.round(seconds)} s)` };
}

/*
 * A stopped execution keeps no output or error of the node that was running, so the request IDs of
 * jobs already submitted (paid, and possibly finishing) would be lost with it: they go to n8n's log,
 * the one place that outlives the stop, and onto the error in case n8n keeps it.
 */
function stopped(ctx: IExecuteFunctions, error: Error, jobs: NamedJob[]): Error {
	if (!ctx.getExecutionCancelSignal?.()?.aborted || !jobs.length) return error;
	const list = jobs.map(([label, id]) => `${label} → ${id}`).join(', ');
	ctx.logger.warn(
		`Bria Tailored: the execution was stopped after Bria accepted these jobs, which may still finish and are billed: ${list}. Fetch them with Request → Get Status.`,
		{ node: ctx.getNode().name },
	);
	return withOtherJobs(error, jobs);
}
