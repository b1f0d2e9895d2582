import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { z } from 'zod';

import { isUsableModel } from '../../methods/listSearch';
import { listModels } from '../../transport/models';
import { booleanSchema, describeIssues } from '../shared/validation';
import type { ReadOperation } from '../types';

/*
 * GET /v1/tailored-gen/models: the organization's tailored models, one output item per model with
 * Bria's fields as they come. Only Usable (default on) keeps what the model picker offers.
 */

const LABELS: Record<string, string> = { returnAll: 'Return All', limit: 'Limit', onlyUsable: 'Only Usable' };

const parametersSchema = z.object({
	returnAll: booleanSchema,
	// Expressions may give the limit as text ("10"); only a whole number of 1 or more is a limit.
	limit: z
		.preprocess(
			(value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
			z.number({ invalid_type_error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be 1 or more'),
		)
		.optional(),
	onlyUsable: booleanSchema,
});

export const getManyModels: ReadOperation = {
	resource: 'model',
	operation: 'getAll',
	properties: [
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 50,
			description: 'Max number of results to return',
			displayOptions: { show: { returnAll: [false] } },
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Only Usable',
					name: 'onlyUsable',
					type: 'boolean',
					default: true,
					description:
						'Whether to return only models that can generate images: status Completed and, where Bria states a training version, FIBO',
				},
			],
		},
	],
	async execute(ctx: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
		const returnAll = ctx.getNodeParameter('returnAll', itemIndex, false);
		const options = ctx.getNodeParameter('options', itemIndex, {}) as IDataObject;
		const parsed = parametersSchema.safeParse({
			returnAll,
			// Shown (and read) only without Return All.
			limit: booleanSchema.safeParse(returnAll).data === true ? undefined : (ctx.getNodeParameter('limit', itemIndex, 50) ?? null),
			onlyUsable: options.onlyUsable ?? true,
		});
		if (!parsed.success) {
			throw new NodeOperationError(ctx.getNode(), `Invalid input: ${describeIssues(parsed.error, LABELS)}`, {
				itemIndex,
				description: 'Nothing was sent to Bria for this item.',
			});
		}
		const { returnAll: all, limit, onlyUsable } = parsed.data;
		const models = (await listModels(ctx, { itemIndex })).filter((model) => !onlyUsable || isUsableModel(model));
		return (all || limit === undefined ? models : models.slice(0, limit)).map((model) => ({
			json: model as unknown as IDataObject,
			pairedItem: { item: itemIndex },
		}));
	},
};
