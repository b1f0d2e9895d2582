import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { NodeOperationError } from 'n8n-workflow';

import { budgetNow, credentialBudget, Party } from '../scheduler/Pacer';
import { apiError, getBaseUrl, retryAfterMs, sendToBria } from '../transport';

interface TailoredModel {
	id: number | string;
	name?: string;
	description?: string;
	status?: string;
	training_version?: string;
}

/** How long the picker waits for a turn in the rate budget before saying so. */
const MODEL_LIST_WAIT_MS = 10_000;

/** Only finished FIBO models can generate; older spec copies omit training_version, so absent means allowed. */
export function isUsableModel(model: TailoredModel): boolean {
	return model.status === 'Completed' && (model.training_version === undefined || model.training_version === null || model.training_version === 'fibo');
}

/** The model picker: the organization's usable tailored models, filtered by name or ID. */
export async function searchModels(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const baseUrl = await getBaseUrl(this);
	// The model list is an endpoint of its own in the organization's rate budget.
	const turn = await (await credentialBudget(this, baseUrl))
		.lane('models')
		.acquire({ party: new Party(0, 'model picker'), deadline: budgetNow() + MODEL_LIST_WAIT_MS });
	if (!turn) {
		throw new NodeOperationError(this.getNode(), 'Bria\'s rate limit for the model list leaves no turn now: try again in a minute, or enter the model ID');
	}
	const response = await sendToBria(this, baseUrl, { method: 'GET', path: '/v1/tailored-gen/models', timeoutMs: 30_000 });
	if (response.statusCode === 429) turn.throttled(retryAfterMs(response));
	else if (response.networkError) turn.unanswered();
	else turn.answered();
	if (response.networkError) {
		throw new NodeOperationError(this.getNode(), `Could not list tailored models: ${response.networkError}`);
	}
	if (response.statusCode !== 200) throw apiError(this.getNode(), response, { action: 'listing tailored models' });
	const models = Array.isArray(response.body) ? (response.body as TailoredModel[]) : [];
	const needle = filter?.trim().toLowerCase();
	return {
		results: models
			.filter(isUsableModel)
			.filter((model) => !needle || `${model.name ?? ''} ${model.id}`.toLowerCase().includes(needle))
			.map((model) => ({ name: `${model.name ?? 'Model'} (${model.id})`, value: String(model.id), description: model.description }))
			.sort((a, b) => a.name.localeCompare(b.name)),
	};
}
