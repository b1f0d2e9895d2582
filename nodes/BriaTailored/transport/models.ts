import type { IExecuteFunctions, ILoadOptionsFunctions, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { credentialBudget, Party } from '../scheduler/Pacer';
import type { Turn } from '../scheduler/Pacer';
import { apiError, briaErrorText, getBaseUrl, retryAfterMs, sendToBria } from './index';
import type { BriaResponse } from './index';

/*
 * Bria's tailored-model management API: the model list (GET /v1/tailored-gen/models, a plain JSON
 * array) and one model (GET /v1/tailored-gen/models/{id}). The model picker and the Model resource
 * both read models through `requestModels` only:
 * - both calls share the organization's model-list rate limit, so each request first takes a turn
 *   on the `models` lane of the organization's budget and then tells the lane how it went;
 * - reading models is free and safe to repeat, so a 429 is sent again once the lane's pause
 *   (Bria's Retry-After) is over, as long as that comes within the caller's patience;
 * - the request goes through `sendToBria` (the token only ever goes to the credential's Base URL).
 */

export const MODELS_PATH = '/v1/tailored-gen/models';

/** How long the Model resource waits for a turn, 429 retries included, before it gives up. */
export const MODELS_PATIENCE_MS = 30_000;

/** One request's own time budget. */
const REQUEST_TIMEOUT_MS = 30_000;

/** A tailored model as Bria lists it; Bria may send more fields, which are passed on unchanged. */
export interface TailoredModel {
	id: number | string;
	name?: string;
	description?: string;
	status?: string;
	training_version?: string | null;
}

type BriaContext = IExecuteFunctions | ILoadOptionsFunctions;

export interface ModelRequestOptions {
	/** The input item the request is for (Model resource), so errors name it. */
	itemIndex?: number;
	/** How long to wait for turns and 429 retries in all; default MODELS_PATIENCE_MS. */
	patienceMs?: number;
}

/** The organization's tailored models, as Bria lists them. */
export async function listModels(ctx: BriaContext, options: ModelRequestOptions = {}): Promise<TailoredModel[]> {
	const action = 'listing tailored models';
	const response = await requestModels(ctx, MODELS_PATH, action, options);
	if (response.statusCode !== 200) throw apiError(ctx.getNode(), response, { itemIndex: options.itemIndex, action });
	if (!Array.isArray(response.body)) throw unexpected(ctx, 'the model list is not a JSON array', options.itemIndex);
	return (response.body as unknown[]).filter(isObject) as unknown as TailoredModel[];
}

/** One tailored model of the organization; a model it does not have is an error saying so. */
export async function getModel(ctx: BriaContext, modelId: string, options: ModelRequestOptions = {}): Promise<TailoredModel> {
	const action = 'getting a tailored model';
	const response = await requestModels(ctx, `${MODELS_PATH}/${encodeURIComponent(modelId)}`, action, options);
	if (response.statusCode === 404) {
		const { message } = briaErrorText(response.body);
		throw new NodeApiError(ctx.getNode(), toJsonObject(response.body), {
			message: `The organization has no tailored model with ID ${modelId} (HTTP 404)`,
			description: [
				message ? `Bria says: ${message}` : undefined,
				'Check the ID, or list the models this credential can see with Model → Get Many.',
			]
				.filter(Boolean)
				.join('\n'),
			httpCode: '404',
			itemIndex: options.itemIndex,
		});
	}
	if (response.statusCode !== 200) throw apiError(ctx.getNode(), response, { itemIndex: options.itemIndex, action });
	if (!isObject(response.body)) throw unexpected(ctx, 'the model is not a JSON object', options.itemIndex);
	return response.body as unknown as TailoredModel;
}

/**
 * GETs `path` (below MODELS_PATH) on the organization's `models` lane and returns Bria's final
 * answer, whatever its status: a 429 is retried after the lane's pause while that ends within the
 * patience, and is returned once it would not. No answer at all, no turn within the patience, or
 * a cancelled execution is thrown.
 */
export async function requestModels(
	ctx: BriaContext,
	path: string,
	action: string,
	{ itemIndex, patienceMs = MODELS_PATIENCE_MS }: ModelRequestOptions = {},
): Promise<BriaResponse> {
	const baseUrl = await getBaseUrl(ctx);
	const lane = (await credentialBudget(ctx, baseUrl)).lane('models');
	const party = new Party(0, itemIndex === undefined ? 'model picker' : 'model resource');
	const cancel = 'getExecutionCancelSignal' in ctx ? ctx.getExecutionCancelSignal?.() : undefined;
	const giveUpAt = Date.now() + patienceMs;
	for (;;) {
		const turn = await nextTurn(lane, party, giveUpAt, cancel);
		if (!turn) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Bria's rate limit for the model list leaves no turn within ${Math.round(patienceMs / 1000)} s (${action}): try again in a minute`,
				{ itemIndex, description: 'Every request to the model list, by any workflow using this organization, counts on the same Bria limit.' },
			);
		}
		const response = await sendToBria(ctx, baseUrl, { method: 'GET', path, timeoutMs: REQUEST_TIMEOUT_MS, itemIndex }, cancel);
		if (response.networkError) {
			turn.unanswered();
			throw new NodeOperationError(ctx.getNode(), `Could not reach Bria (${action}): ${response.networkError}`, { itemIndex });
		}
		if (response.statusCode !== 429) {
			turn.answered();
			return response;
		}
		// The lane now holds every request to the model list back for this long: retry after it, if in time.
		const laneWaitMs = turn.throttled(retryAfterMs(response));
		if (Date.now() + laneWaitMs >= giveUpAt) return response;
	}
}

interface TurnSource {
	acquire(request: { party: Party; signal?: AbortSignal }): Promise<Turn | undefined>;
}

/**
 * A turn on the lane, or undefined when none comes before `giveUpAt` (the wait is bounded by a
 * signal, on the process's own clock); throws when the execution is cancelled.
 */
async function nextTurn(lane: TurnSource, party: Party, giveUpAt: number, cancel: AbortSignal | undefined): Promise<Turn | undefined> {
	const patience = AbortSignal.timeout(Math.max(1, giveUpAt - Date.now()));
	const turn = await lane
		.acquire({ party, signal: cancel ? AbortSignal.any([cancel, patience]) : patience })
		.catch((error: Error) => error);
	if (!(turn instanceof Error)) return turn;
	if (patience.aborted && !cancel?.aborted) return undefined;
	throw turn;
}

function unexpected(ctx: BriaContext, what: string, itemIndex: number | undefined): NodeOperationError {
	return new NodeOperationError(ctx.getNode(), `Bria's answer was not what the node expects: ${what}`, { itemIndex });
}

function isObject(value: unknown): value is Record<string, unknown> {
	return !!value && typeof value === 'object' && !Array.isArray(value);
}

function toJsonObject(body: unknown): JsonObject {
	return (isObject(body) ? body : { message: String(body ?? '') }) as JsonObject;
}
