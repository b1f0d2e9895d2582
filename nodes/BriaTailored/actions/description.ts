import type { INodeProperties } from 'n8n-workflow';

import { OPERATIONS, RESOURCES } from './operations';

/** Adds `resource`/`operation` conditions to a field, keeping the field's own conditions. */
function onlyFor(property: INodeProperties, resource: string, operation: string): INodeProperties {
	const show = property.displayOptions?.show ?? {};
	return {
		...property,
		displayOptions: {
			...property.displayOptions,
			show: { ...show, resource: [resource], operation: [operation] },
		},
	};
}

/** The node's parameters: the resource picker, an operation picker per resource, then each operation's fields. */
export const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: RESOURCES,
		default: 'image',
	},
	...RESOURCES.map(
		(resource): INodeProperties => {
			const operations = OPERATIONS.filter((op) => op.resource === resource.value);
			return {
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: [resource.value] } },
				options: operations.map((op) => ({
					name: op.name,
					value: op.operation,
					action: op.action,
					description: op.description,
				})),
				default: operations[0].operation,
			};
		},
	),
	...OPERATIONS.flatMap((op) => op.properties.map((property) => onlyFor(property, op.resource, op.operation))),
];
