import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { properties } from './actions/description';
import { route } from './actions/router';
import { searchModels } from './methods/listSearch';

export class BriaTailored implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Bria Tailored',
		name: 'briaTailored',
		icon: { light: 'file:bria.svg', dark: 'file:bria.dark.svg' },
		group: ['transform'],
		version: 1,
		// The resource alone names the action on the canvas, except for Model's two operations.
		subtitle:
			'={{ $parameter["resource"] === "model" ? { get: "Get Model", getAll: "Get Many Models" }[$parameter["operation"]] : { image: "Generate Image", structuredPrompt: "Generate Structured Prompt", request: "Get Status" }[$parameter["resource"]] }}',
		description: 'Generate on-brand images and structured prompts with your Bria tailored (FIBO) model',
		defaults: { name: 'Bria Tailored' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'briaApi', required: true }],
		properties,
	};

	methods = { listSearch: { searchModels } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await route.call(this);
	}
}
