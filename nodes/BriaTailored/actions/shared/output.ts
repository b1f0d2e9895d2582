import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { now } from '../../scheduler/clock';
import type { JobState } from '../../scheduler/JobScheduler';
import { Slots } from '../../scheduler/slots';
import { downloadResultFile } from '../../transport';
import type { JobSpec } from '../types';

/** Time for the result image to arrive, whatever is left of Max Wait Time (a 2-3 MB PNG at 25 kB/s). */
export const DOWNLOAD_TIMEOUT_MS = 120_000;
/*
 * Downloads in flight at once in this n8n process: each holds one picture (1-2 MB) in memory until
 * n8n stores it, so however many jobs finish together, memory stays flat. A download takes well
 * under a second on a good link: 8 keep the link busy.
 */
const downloads = new Slots(8);
const EXTENSIONS: Record<string, string> = {
	'image/png': 'png',
	'image/jpeg': 'jpg',
	'image/webp': 'webp',
	'image/gif': 'gif',
};

/*
 * One output shape for every operation, whether the job was just generated or resumed:
 * finished image → request_id, status, image_url, seed (number), structured_prompt (object), binary;
 * finished structured prompt → request_id, status, seed, structured_prompt;
 * not waited for → request_id, status_url, status "IN_PROGRESS".
 * `structured_prompt` and `seed` feed the next Bria node's Recreate/Refine fields unchanged.
 */
export async function toOutputItem(
	ctx: IExecuteFunctions,
	state: JobState,
	job: JobSpec,
	itemIndex: number,
	/** The workflow's own timeout, if set: it bounds the download too (a queue worker would not stop it). */
	hardDeadline = Infinity,
): Promise<INodeExecutionData> {
	if (state.status !== 'COMPLETED') {
		return {
			json: { request_id: state.request_id, status: state.status, status_url: state.status_url ?? null },
			pairedItem: { item: itemIndex },
		};
	}
	// The tailored spec shows a flat {image_url, structured_prompt}; other v2 answers nest it in `result`.
	const result = (state.result && typeof state.result === 'object' ? state.result : state) as IDataObject;
	const imageUrl = typeof result.image_url === 'string' && result.image_url ? result.image_url : undefined;
	const structuredPrompt = toStructuredPrompt(result.structured_prompt);
	const missing =
		job.expects === 'image' && !imageUrl
			? 'image_url'
			: job.expects === 'structuredPrompt' && !isObject(structuredPrompt)
				? 'structured_prompt'
				: job.expects === 'any' && !imageUrl && !structuredPrompt
					? 'result'
					: undefined;
	if (missing) {
		// The job is done and paid, but its result is missing: a job-level failure, not an HTTP one.
		const error = new NodeOperationError(ctx.getNode(), `Bria reported request ${state.request_id} as completed but sent no ${missing}`, {
			description: `Request ID: ${state.request_id}. Fetch it again later with Request → Get Status, or quote it to Bria support.`,
			itemIndex,
		});
		error.context.requestId = state.request_id;
		throw error;
	}
	// As an agent tool the model gets what it can use: the URL is the image (an agent drops binary
	// data), and an image's kilobytes of structured prompt stay out (for a structured prompt job it is the result).
	const asTool = runsAsAgentTool(ctx);
	const json: IDataObject = {
		request_id: state.request_id,
		status: 'COMPLETED',
		...(imageUrl ? { image_url: imageUrl } : {}),
		seed: toSeed(result.seed),
		...(asTool && imageUrl ? {} : { structured_prompt: structuredPrompt }),
	};
	const item: INodeExecutionData = { json, pairedItem: { item: itemIndex } };
	if (imageUrl && job.download && !asTool) {
		const signal = ctx.getExecutionCancelSignal?.();
		// Waiting node runs take turns at the download slots (a form's one image does not queue behind a batch's).
		const owner = `${ctx.getExecutionId?.() ?? ''}\0${ctx.getNode().name}`;
		item.binary = await downloads.run(async () => {
			// Its own budget, not what is left of Max Wait Time: a job that finished just in time still
			// gets its (paid) image. Only the workflow's timeout, which the user set for the whole run, cuts it.
			const file = await downloadResultFile(
				ctx,
				imageUrl,
				Math.max(1, Math.min(DOWNLOAD_TIMEOUT_MS, hardDeadline - now())),
				{ itemIndex, requestId: state.request_id },
				signal,
			);
			const extension = EXTENSIONS[file.mimeType] ?? file.mimeType.split('/')[1]?.replace(/[^a-z0-9]/g, '') ?? 'img';
			return {
				[job.binaryPropertyName]: await ctx.helpers.prepareBinaryData(
					file.data,
					`bria-${state.request_id.replace(/[^A-Za-z0-9_-]/g, '_')}.${extension}`,
					file.mimeType,
				),
			};
		}, signal, owner);
	}
	return item;
}

/**
 * Whether the node runs as an AI agent's tool. n8n runs the node's tool variant, whose type is
 * `<package>.<name>Tool` (the same rule as its `@tool` display option), on every agent path: Agent 2.x
 * calls it itself (there `isToolExecution()` is true), Agent 3.x runs it through the engine, where
 * `isToolExecution()` is false and the node type is the only mark.
 */
export function runsAsAgentTool(ctx: IExecuteFunctions): boolean {
	return ctx.getNode().type.endsWith('Tool') || ctx.isToolExecution?.() === true;
}

/** Bria's examples send the seed as text, its schema as a number: always output a number. */
function toSeed(value: unknown): number | null {
	const seed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	return typeof seed === 'number' && Number.isFinite(seed) ? seed : null;
}

/**
 * Bria sends the structured prompt as a JSON string: output the object. Other text is kept as is
 * beside an image (the image is the result); `null` means there is none.
 */
function toStructuredPrompt(value: unknown): IDataObject | string | null {
	if (typeof value !== 'string') return isObject(value) ? value : null;
	try {
		const parsed = JSON.parse(value) as unknown;
		return parsed === null ? null : isObject(parsed) ? parsed : value;
	} catch {
		return value;
	}
}

function isObject(value: unknown): value is IDataObject {
	return !!value && typeof value === 'object' && !Array.isArray(value);
}
