import { NodeHelpers, Workflow } from 'n8n-workflow';
import type { INodeParameters, INodeProperties, INodeTypes } from 'n8n-workflow';

import { BriaTailored } from '../../../../../nodes/BriaTailored/BriaTailored.node';

const { description } = new BriaTailored();
const VERSION = { typeVersion: 1 };

const visibleFields = (parameters: INodeParameters) =>
	description.properties
		.filter((property) => NodeHelpers.displayParameter(parameters, property, VERSION, description))
		.map((property) => property.name);

const shown = (parameters: INodeParameters, name: string) =>
	description.properties.find((property) => property.name === name && NodeHelpers.displayParameter(parameters, property, VERSION, description));

describe('Model resource in the node description', () => {
	test('the Resource picker offers Model, options sorted by name; its Operation picker offers Get and Get Many', () => {
		const resource = description.properties.find((property) => property.name === 'resource');
		expect(resource?.options?.map((option) => (option as { name: string }).name)).toEqual(['Image', 'Model', 'Request', 'Structured Prompt']);
		const operation = shown({ resource: 'model' }, 'operation') as INodeProperties;
		expect(operation.options).toEqual([
			expect.objectContaining({ name: 'Get', value: 'get', action: 'Get a model' }),
			expect.objectContaining({ name: 'Get Many', value: 'getAll', action: 'Get many models' }),
		]);
	});

	test('Get Many shows Return All, Limit (50, only without Return All) and Options → Only Usable (on); Get shows Model ID', () => {
		expect(visibleFields({ resource: 'model', operation: 'getAll', returnAll: false })).toEqual(['resource', 'operation', 'returnAll', 'limit', 'options']);
		expect(visibleFields({ resource: 'model', operation: 'getAll', returnAll: true })).toEqual(['resource', 'operation', 'returnAll', 'options']);
		expect(shown({ resource: 'model', operation: 'getAll', returnAll: false }, 'limit')?.default).toBe(50);
		const options = shown({ resource: 'model', operation: 'getAll' }, 'options') as INodeProperties;
		expect(options.options).toEqual([expect.objectContaining({ name: 'onlyUsable', type: 'boolean', default: true })]);
		expect(visibleFields({ resource: 'model', operation: 'get' })).toEqual(['resource', 'operation', 'modelId']);
		expect(description.usableAsTool).toBe(true);
	});

	test('the canvas subtitle names each Model operation, through n8n\'s expression engine', () => {
		const nodeTypes = { getByName: () => new BriaTailored(), getByNameAndVersion: () => new BriaTailored(), getKnownTypes: () => ({}) };
		const subtitle = (parameters: INodeParameters) => {
			const node = { id: '1', name: 'Bria', type: 'n8n-nodes-bria.briaTailored', typeVersion: 1, position: [0, 0] as [number, number], parameters };
			const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes: nodeTypes as unknown as INodeTypes });
			return workflow.expression.getSimpleParameterValue(node, description.subtitle!, 'internal', {});
		};
		expect(subtitle({ resource: 'model', operation: 'getAll' })).toBe('Get Many Models');
		expect(subtitle({ resource: 'model', operation: 'get' })).toBe('Get Model');
		expect(subtitle({ resource: 'image', operation: 'generate' })).toBe('Generate Image');
		expect(subtitle({ resource: 'request', operation: 'getStatus' })).toBe('Get Status');
	});
});
