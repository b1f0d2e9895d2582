import { extractFromAICalls, NodeHelpers } from 'n8n-workflow';
import type { INode, INodeParameters, INodeTypeDescription } from 'n8n-workflow';

import { BriaTailored } from '../../../../../nodes/BriaTailored/BriaTailored.node';

/*
 * The node's tool variant, as n8n builds it for AI agents: the same description under the name
 * `<name>Tool`. n8n fills a saved node's missing parameters from the defaults its description
 * shows for that variant (its `@tool` display option); these are what the agent's model is offered.
 */
const regular = new BriaTailored().description;
const tool: INodeTypeDescription = { ...regular, name: `${regular.name}Tool`, displayName: `${regular.displayName} Tool` };

function filled(description: INodeTypeDescription, parameters: INodeParameters): INodeParameters {
	const node: INode = { id: '1', name: 'Bria', type: `n8n-nodes-bria.${description.name}`, typeVersion: 1, position: [0, 0], parameters };
	return NodeHelpers.getNodeParameters(description.properties, parameters, true, false, node, description) ?? {};
}

function modelFilled(parameters: INodeParameters): Array<{ key: string; type?: string; defaultValue?: unknown }> {
	return extractFromAICalls(JSON.stringify(parameters)).map(({ key, type, defaultValue }) => ({ key, type, ...(defaultValue === undefined ? {} : { defaultValue }) }));
}

describe('Bria Tailored as an AI agent tool: fields the model fills', () => {
	const image = { resource: 'image', operation: 'generate', model: { __rl: true, mode: 'id', value: '101' } };

	test('a new image tool lets the model write the prompt, pick the aspect ratio (1:1 if it does not) and ask for several images (1 if it does not)', () => {
		const parameters = filled(tool, image);
		expect(parameters.prompt).toMatch(/^=\{\{ \/\*n8n-auto-generated-fromAI-override\*\/ \$fromAI\('Prompt', `.+`, 'string'\) \}\}$/);
		expect(modelFilled(parameters)).toEqual([
			{ key: 'Prompt', type: 'string' },
			{ key: 'Aspect_Ratio', type: 'string', defaultValue: '1:1' },
			{ key: 'Images', type: 'number', defaultValue: 1 },
		]);
		// The model is told which ratios exist.
		expect(JSON.stringify(parameters.options)).toContain('one of 1:1, 16:9, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16');
	});

	test('a user\'s own values stay: a fixed prompt, an options collection saved without the aspect ratio', () => {
		expect(modelFilled(filled(tool, { ...image, prompt: 'A red mug', options: {} }))).toEqual([]);
		expect(modelFilled(filled(tool, { ...image, options: { aspectRatio: '9:16' } }))).toEqual([{ key: 'Prompt', type: 'string' }]);
	});

	test('a structured prompt tool: the model writes the prompt; it has no aspect ratio', () => {
		expect(modelFilled(filled(tool, { resource: 'structuredPrompt', operation: 'generate' }))).toEqual([{ key: 'Prompt', type: 'string' }]);
	});

	test('the node itself (not a tool) is unchanged: empty prompt, empty options, nothing for a model', () => {
		const parameters = filled(regular, image);
		expect(parameters.prompt).toBe('');
		expect(parameters.options).toEqual({});
		expect(modelFilled(parameters)).toEqual([]);
	});
});
