import { NodeHelpers, Workflow } from 'n8n-workflow';
import type { INodeParameters, INodeTypes } from 'n8n-workflow';

import { BriaTailored } from '../../../nodes/BriaTailored/BriaTailored.node';

const { description } = new BriaTailored();
const VERSION = { typeVersion: 1 };

/** The top-level fields n8n shows for these parameter values (n8n's own displayOptions logic). */
function visibleFields(parameters: INodeParameters): string[] {
	return description.properties
		.filter((property) => NodeHelpers.displayParameter(parameters, property, VERSION, description))
		.map((property) => property.name)
		.filter((name, index, names) => names.indexOf(name) === index);
}

function optionNames(parameters: INodeParameters): string[] {
	const collection = description.properties.find(
		(property) => property.name === 'options' && NodeHelpers.displayParameter(parameters, property, VERSION, description),
	);
	return (collection?.options ?? [])
		// Options refer to top-level fields by root path ('/inputMode'): n8n resolves those against the root values.
		.filter((option) => NodeHelpers.displayParameter({}, option, VERSION, description, parameters))
		.map((option) => option.name)
		.sort();
}

describe('Bria Tailored node description', () => {
	test('each input mode shows exactly the fields it allows', () => {
		const image = { resource: 'image', operation: 'generate' };
		expect(visibleFields({ ...image, inputMode: 'prompt' })).toEqual(['resource', 'operation', 'model', 'inputMode', 'prompt', 'waitForCompletion', 'options']);
		expect(visibleFields({ ...image, inputMode: 'recreate' })).toEqual(['resource', 'operation', 'model', 'inputMode', 'structuredPrompt', 'seed', 'waitForCompletion', 'options']);
		expect(visibleFields({ ...image, inputMode: 'refine' })).toEqual(['resource', 'operation', 'model', 'inputMode', 'prompt', 'structuredPrompt', 'waitForCompletion', 'options']);
		const structured = { resource: 'structuredPrompt', operation: 'generate' };
		expect(visibleFields({ ...structured, inputMode: 'prompt' })).toEqual(['resource', 'operation', 'model', 'inputMode', 'prompt', 'waitForCompletion', 'options']);
		expect(visibleFields({ ...structured, inputMode: 'refine' })).toEqual(['resource', 'operation', 'model', 'inputMode', 'prompt', 'structuredPrompt', 'waitForCompletion', 'options']);
		expect(visibleFields({ resource: 'request', operation: 'getStatus' })).toEqual(['resource', 'operation', 'requestId', 'waitForCompletion', 'options']);
	});

	test('options: image-only ones never appear for structured prompts; the optional seed hides in Recreate', () => {
		const imageOptions = ['aspectRatio', 'binaryPropertyName', 'concurrency', 'downloadImage', 'guidanceScale', 'imagesPerItem', 'maxWaitTime', 'modelInfluence', 'negativePrompt', 'promptContentModeration', 'requestsPerMinute', 'stepsNum', 'visualOutputContentModeration'];
		expect(optionNames({ resource: 'image', operation: 'generate', inputMode: 'prompt' })).toEqual([...imageOptions, 'seed'].sort());
		expect(optionNames({ resource: 'image', operation: 'generate', inputMode: 'recreate' })).toEqual(imageOptions);
		expect(optionNames({ resource: 'structuredPrompt', operation: 'generate', inputMode: 'prompt' })).toEqual(['concurrency', 'maxWaitTime', 'promptContentModeration', 'requestsPerMinute', 'seed']);
		expect(optionNames({ resource: 'request', operation: 'getStatus' })).toEqual(['binaryPropertyName', 'concurrency', 'downloadImage', 'maxWaitTime', 'requestsPerMinute']);
	});

	test('the canvas subtitle names the action, through n8n\'s expression engine', () => {
		const nodeTypes = { getByName: () => new BriaTailored(), getByNameAndVersion: () => new BriaTailored(), getKnownTypes: () => ({}) };
		const subtitle = (resource: string) => {
			const node = { id: '1', name: 'Bria', type: 'n8n-nodes-bria.briaTailored', typeVersion: 1, position: [0, 0] as [number, number], parameters: { resource } };
			const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes: nodeTypes as unknown as INodeTypes });
			return workflow.expression.getSimpleParameterValue(node, description.subtitle!, 'internal', {});
		};
		expect(subtitle('image')).toBe('Generate Image');
		expect(subtitle('structuredPrompt')).toBe('Generate Structured Prompt');
		expect(subtitle('request')).toBe('Get Status');
	});

	test('is usable as an AI tool, with light and dark icons and the Bria API credential', () => {
		expect(description).toMatchObject({
			name: 'briaTailored',
			version: 1,
			usableAsTool: true,
			icon: { light: 'file:bria.svg', dark: 'file:bria.dark.svg' },
			credentials: [{ name: 'briaApi', required: true }],
		});
	});
});
