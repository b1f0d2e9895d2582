import type { INodeProperties } from 'n8n-workflow';

import { OPERATIONS } from './operations';
import { withAgentVariant } from './shared/fields';

/*
 * The pickers are written out literally (n8n's linters and scanner read them from the source);
 * each operation's fields come from its own module, shown only for that resource and operation.
 */
const pickers: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Image', value: 'image' },
			{ name: 'Model', value: 'model' },
			{ name: 'Request', value: 'request' },
			{ name: 'Structured Prompt', value: 'structuredPrompt' },
		],
		default: 'image',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['image'] } },
		options: [
			{
				name: 'Generate',
				value: 'generate',
				action: 'Generate an image',
				description: 'Generate an image with a tailored model',
			},
		],
		default: 'generate',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['structuredPrompt'] } },
		options: [
			{
				name: 'Generate',
				value: 'generate',
				action: 'Generate a structured prompt',
				description: 'Turn a text prompt into a FIBO structured prompt, or refine one, without rendering an image',
			},
		],
		default: 'generate',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['request'] } },
		options: [
			{
				name: 'Get Status',
				value: 'getStatus',
				action: 'Get the status of a request',
				description: 'Check a job submitted earlier and, when it is done, return its result',
			},
		],
		default: 'getStatus',
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['model'] } },
		options: [
			{
				name: 'Get',
				value: 'get',
				action: 'Get a model',
				description: 'Get one tailored model of your organization by its ID',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				action: 'Get many models',
				description: 'List the tailored models of your organization',
			},
		],
		default: 'getAll',
	},
];

/** Adds `resource`/`operation` conditions to a field, keeping the field's own conditions. */
function onlyFor(property: INodeProperties, resource: string, operation: string): INodeProperties {
	return {
		...property,
		displayOptions: {
			...property.displayOptions,
			show: { ...property.displayOptions?.show, resource: [resource], operation: [operation] },
		},
	};
}

export const properties: INodeProperties[] = [
	...pickers,
	...OPERATIONS.flatMap((op) => op.properties.flatMap(withAgentVariant).map((property) => onlyFor(property, op.resource, op.operation))),
];
