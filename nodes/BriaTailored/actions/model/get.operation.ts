import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { z } from 'zod';

import { getModel } from '../../transport/models';
import { describeIssues, modelIdSchema } from '../shared/validation';
import type { ReadOperation } from '../types';

/*
 * GET /v1/tailored-gen/models/{id}: one tailored model of the organization, with Bria's fields as
 * they come. An ID the organization does not have is an error (HTTP 404) that says so.
 */

const parametersSchema = z.object({
	// The same rule as the model of Generate (a number from Bria's list, e.g. {{ $json.id }}, too),
	// and never a path step: the ID goes into the request's path.
	modelId: modelIdSchema.refine((id) => !/^\.+$/.test(id), 'must be a model ID such as 1234'),
});

export const getOneModel: ReadOperation = {
	resource: 'model',
	operation: 'get',
	properties: [
		{
			displayName: 'Model ID',
			name: 'modelId',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'e.g. 1234',
			description: 'The ID of a tailored model of your organization',
			hint: 'From Model → Get Many or Bria\'s model list: {{ $json.id }}',
		},
	],
	async execute(ctx: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
		const parsed = parametersSchema.safeParse({ modelId: ctx.getNodeParameter('modelId', itemIndex, undefined) });
		if (!parsed.success) {
			throw new NodeOperationError(ctx.getNode(), `Invalid input: ${describeIssues(parsed.error, { modelId: 'Model ID' })}`, {
				itemIndex,
				description: 'Nothing was sent to Bria for this item.',
			});
		}
		const model = await getModel(ctx, parsed.data.modelId, { itemIndex });
		return [{ json: model as unknown as IDataObject, pairedItem: { item: itemIndex } }];
	},
};
