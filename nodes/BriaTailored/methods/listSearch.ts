import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { listModels } from '../transport/models';
import type { TailoredModel } from '../transport/models';

/** How long the picker waits for a turn in the rate budget (429 retries included) before saying so. */
const MODEL_LIST_WAIT_MS = 10_000;

/**
 * Only finished FIBO models can generate; older spec copies omit training_version, so absent means
 * allowed. One rule for the model picker and Model → Get Many's Only Usable.
 */
export function isUsableModel(model: TailoredModel): boolean {
	return model.status === 'Completed' && (model.training_version === undefined || model.training_version === null || model.training_version === 'fibo');
}

/** The model picker: the organization's usable tailored models, filtered by name or ID. */
export async function searchModels(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	// The same path as Model → Get Many: the organization's model-list lane of the rate budget.
	const models = await listModels(this, { patienceMs: MODEL_LIST_WAIT_MS });
	const needle = filter?.trim().toLowerCase();
	return {
		results: models
			.filter(isUsableModel)
			.filter((model) => !needle || `${model.name ?? ''} ${model.id}`.toLowerCase().includes(needle))
			.map((model) => ({ name: `${model.name ?? 'Model'} (${model.id})`, value: String(model.id), description: model.description }))
			.sort((a, b) => a.name.localeCompare(b.name)),
	};
}
