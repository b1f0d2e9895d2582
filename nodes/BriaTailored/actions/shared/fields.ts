import type { INodeProperties } from 'n8n-workflow';
import { FROM_AI_AUTO_GENERATED_MARKER } from 'n8n-workflow';

import { MAX_CONCURRENCY, MAX_IMAGES_PER_ITEM, MAX_IMAGES_PER_TOOL_CALL, MAX_WAIT_SECONDS } from './validation';

/*
 * Field definitions used by more than one operation. Parameter names are the node's public
 * contract (saved workflows refer to them): rename only with a new node version.
 */

export type InputMode = 'prompt' | 'recreate' | 'refine';

export const modelField: INodeProperties = {
	displayName: 'Model',
	name: 'model',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	description: 'Your tailored model (trained on FIBO). Only completed FIBO models are listed.',
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			typeOptions: { searchListMethod: 'searchModels', searchable: true },
		},
		{
			displayName: 'ID',
			name: 'id',
			type: 'string',
			placeholder: 'e.g. 1234',
			validation: [
				{
					type: 'regex',
					properties: { regex: '^[A-Za-z0-9._-]+$', errorMessage: 'Enter a model ID such as 1234' },
				},
			],
		},
	],
};

export const imageInputModeField: INodeProperties = {
	displayName: 'Input Mode',
	name: 'inputMode',
	type: 'options',
	noDataExpression: true,
	default: 'prompt',
	options: [
		{ name: 'From Text Prompt', value: 'prompt', description: 'Create a new image from a text instruction' },
		{
			name: 'Recreate From Structured Prompt',
			value: 'recreate',
			description: 'Reproduce an earlier image exactly from its structured prompt and seed',
		},
		{
			name: 'Refine Structured Prompt',
			value: 'refine',
			description: 'Change an earlier image with a new text instruction',
		},
	],
};

/** Structured prompts have no "recreate": only text or refinement. */
export const structuredPromptInputModeField: INodeProperties = {
	displayName: 'Input Mode',
	name: 'inputMode',
	type: 'options',
	noDataExpression: true,
	default: 'prompt',
	options: [
		{ name: 'From Text Prompt', value: 'prompt', description: 'Write a new structured prompt from a text instruction' },
		{
			name: 'Refine Structured Prompt',
			value: 'refine',
			description: 'Change an earlier structured prompt with a new text instruction',
		},
	],
};

export const promptField: INodeProperties = {
	displayName: 'Prompt',
	name: 'prompt',
	type: 'string',
	typeOptions: { rows: 3 },
	required: true,
	default: '',
	placeholder: 'e.g. A ceramic mug on a sunlit kitchen table',
	description: 'Text instruction for Bria (sent as prompt)',
	displayOptions: { show: { inputMode: ['prompt', 'refine'] } },
};

export const structuredPromptField: INodeProperties = {
	displayName: 'Structured Prompt',
	name: 'structuredPrompt',
	type: 'json',
	required: true,
	default: '',
	description:
		'The FIBO structured prompt of an earlier result, as JSON text or an object (sent as structured_prompt)',
	hint: 'From an earlier Bria node: {{ $json.structured_prompt }}',
	displayOptions: { show: { inputMode: ['recreate', 'refine'] } },
};

export const recreateSeedField: INodeProperties = {
	displayName: 'Seed',
	name: 'seed',
	type: 'number',
	required: true,
	// Empty, not 0: an unset seed must be detectable (n8n saves no parameter equal to its default).
	default: '',
	typeOptions: { minValue: 0, numberPrecision: 0 },
	description: 'The seed of the image to recreate (sent as seed)',
	hint: 'From an earlier Bria node: {{ $json.seed }}',
	displayOptions: { show: { inputMode: ['recreate'] } },
};

export const requestIdField: INodeProperties = {
	displayName: 'Request ID',
	name: 'requestId',
	type: 'string',
	required: true,
	default: '',
	placeholder: 'e.g. {{ $json.request_id }}',
	description: 'The request_id of a job submitted earlier, e.g. by a Bria Tailored node with Wait for Completion off',
};

export const waitForCompletionField: INodeProperties = {
	displayName: 'Wait for Completion',
	name: 'waitForCompletion',
	type: 'boolean',
	default: true,
	description:
		'Whether to wait until Bria finishes the job. Off: return the request_id at once and fetch the result later with Request → Get Status.',
};

/** Options of the `options` collection; each operation picks the ones that apply to it. */
export const option = {
	negativePrompt: {
		displayName: 'Negative Prompt',
		name: 'negativePrompt',
		type: 'string',
		default: '',
		description: 'Concepts to keep out of the image (sent as negative_prompt)',
	},
	aspectRatio: {
		displayName: 'Aspect Ratio',
		name: 'aspectRatio',
		type: 'options',
		default: '1:1',
		options: [
			{ name: '1:1', value: '1:1' },
			{ name: '16:9', value: '16:9' },
			{ name: '2:3', value: '2:3' },
			{ name: '3:2', value: '3:2' },
			{ name: '3:4', value: '3:4' },
			{ name: '4:3', value: '4:3' },
			{ name: '4:5', value: '4:5' },
			{ name: '5:4', value: '5:4' },
			{ name: '9:16', value: '9:16' },
		],
		description: 'Width to height of the image (sent as aspect_ratio)',
	},
	guidanceScale: {
		displayName: 'Guidance Scale',
		name: 'guidanceScale',
		type: 'number',
		default: 5,
		typeOptions: { minValue: 3, maxValue: 5, numberPrecision: 0 },
		description: 'How strictly to follow the prompt, 3 to 5 (sent as guidance_scale)',
	},
	stepsNum: {
		displayName: 'Steps',
		name: 'stepsNum',
		type: 'number',
		default: 50,
		typeOptions: { minValue: 20, maxValue: 50, numberPrecision: 0 },
		description: 'Diffusion steps, 20 to 50: fewer is faster, more is finer (sent as steps_num)',
	},
	modelInfluence: {
		displayName: 'Model Influence',
		name: 'modelInfluence',
		type: 'number',
		default: 1,
		typeOptions: { minValue: 0, maxValue: 1.5, numberPrecision: 2 },
		description: 'How strongly the tailored model shapes the result, 0 to 1.5 (sent as tailored_model_influence)',
	},
	seed: {
		displayName: 'Seed',
		name: 'seed',
		type: 'number',
		default: 0,
		typeOptions: { minValue: 0, numberPrecision: 0 },
		description: 'Fixes the randomness so the same input gives the same result (sent as seed)',
	},
	promptContentModeration: {
		displayName: 'Prompt Content Moderation',
		name: 'promptContentModeration',
		type: 'boolean',
		default: true,
		description: 'Whether Bria checks the prompt for unsafe content (sent as prompt_content_moderation)',
	},
	visualOutputContentModeration: {
		displayName: 'Output Content Moderation',
		name: 'visualOutputContentModeration',
		type: 'boolean',
		default: true,
		description: 'Whether Bria checks the generated image for unsafe content (sent as visual_output_content_moderation)',
	},
	maxWaitTime: {
		displayName: 'Max Wait Time (Seconds)',
		name: 'maxWaitTime',
		type: 'number',
		default: 300,
		typeOptions: { minValue: 1, maxValue: MAX_WAIT_SECONDS },
		description:
			'How long to wait for the job before stopping with an error that carries the request_id (resume it with Request → Get Status)',
	},
	downloadImage: {
		displayName: 'Download Image',
		name: 'downloadImage',
		type: 'boolean',
		default: true,
		description: 'Whether to download the result into binary data. Off: output only the temporary image_url.',
	},
	binaryPropertyName: {
		displayName: 'Put Output in Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		hint: 'The name of the binary field to put the image in',
		description: 'Binary field for the downloaded image',
	},
	concurrency: {
		displayName: 'Concurrency',
		name: 'concurrency',
		type: 'number',
		default: 0,
		typeOptions: { minValue: 0, maxValue: MAX_CONCURRENCY, numberPrecision: 0 },
		description:
			'At most this many jobs in flight at once for this node. 0 = no cap of its own: every job starts at once and your Bria plan\'s rate limit (set on the credential) paces them. Read from the first item.',
	},
	imagesPerItem: {
		displayName: 'Images per Item',
		name: 'imagesPerItem',
		type: 'number',
		default: 1,
		typeOptions: { minValue: 1, maxValue: MAX_IMAGES_PER_ITEM, numberPrecision: 0 },
		description:
			'How many images to make for each input item, one Bria job each, each its own output item. With a seed set, they use seed, seed + 1, …: variations of one scene.',
	},
	requestsPerMinute: {
		displayName: 'Requests per Minute',
		name: 'requestsPerMinute',
		type: 'number',
		default: 0,
		typeOptions: { minValue: 0, numberPrecision: 0 },
		description:
			'Cap per Bria endpoint per minute for each run of this node, on top of the organization\'s rate budget (set your plan on the Bria API credential). 0 = no cap of its own. Read from the first item.',
	},
} satisfies Record<string, INodeProperties>;

export type OptionName = keyof typeof option;

/** The shared `options` collection, holding the given options in display-name order. */
export function optionsCollection(names: OptionName[], only: Partial<Record<OptionName, string[]>> = {}): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: names
			.map((name) => {
				const modes = only[name];
				return modes ? { ...option[name], displayOptions: { show: { '/inputMode': modes } } } : option[name];
			})
			.sort((a, b) => a.displayName.localeCompare(b.displayName)),
	};
}

/*
 * As an AI agent's tool (n8n's `<name>Tool` variant of the node) the model writes the prompt and
 * may pick the aspect ratio. The tool variant starts with them "defined automatically by the
 * model": the `$fromAI()` value n8n's editor writes for that, shown through n8n's `@tool` display
 * option. A new tool works at once; the user can still replace either with a fixed value.
 */
function fromModel(key: string, description: string, type: 'string' | 'number', fallback?: string | number): string {
	const fallbackArgument = fallback === undefined ? '' : typeof fallback === 'number' ? `, ${fallback}` : `, '${fallback}'`;
	return `={{ ${FROM_AI_AUTO_GENERATED_MARKER} $fromAI('${key}', \`${description}\`, '${type}'${fallbackArgument}) }}`;
}

const promptFromModel = fromModel('Prompt', 'What the image should show (or, when refining, what to change), in plain words', 'string');
/** Options the model fills in the tool variant, with the value it writes. */
const optionsFromModel: Partial<Record<OptionName, string>> = {
	aspectRatio: fromModel(
		'Aspect_Ratio',
		`Width to height of the image, one of ${(option.aspectRatio.options ?? []).map((choice) => String((choice as { value: string }).value)).join(', ')}`,
		'string',
		'1:1',
	),
	imagesPerItem: fromModel('Images', `How many images to make, 1 to ${MAX_IMAGES_PER_TOOL_CALL} (variations of the same request)`, 'number', 1),
};

function shownAsTool(property: INodeProperties, asTool: boolean): INodeProperties {
	return { ...property, displayOptions: { ...property.displayOptions, show: { ...property.displayOptions?.show, '@tool': [asTool] } } };
}

/** The field as the node shows it, and its tool variant where the model fills it; other fields unchanged. */
export function withAgentVariant(property: INodeProperties): INodeProperties[] {
	let forAgent: INodeProperties | undefined;
	if (property.name === promptField.name) forAgent = { ...property, default: promptFromModel };
	else if (property.type === 'collection' && property.options?.some((entry) => entry.name in optionsFromModel)) {
		const filled = (name: string) => optionsFromModel[name as OptionName];
		forAgent = {
			...property,
			default: Object.fromEntries(property.options.filter((entry) => filled(entry.name)).map((entry) => [entry.name, filled(entry.name)])),
			options: property.options.map((entry) => (filled(entry.name) ? { ...entry, default: filled(entry.name) } : entry)),
		} as INodeProperties;
	}
	return forAgent ? [shownAsTool(property, false), shownAsTool(forAgent, true)] : [property];
}
