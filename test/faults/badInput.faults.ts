import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import type { BriaCredential } from '../harness/runNode';
import { ASPECT_RATIOS } from '../../nodes/BriaTailored/actions/shared/validation';
import { faultSuite, getStatusParams, imageParams, modelById, structuredPromptParams } from './matrix';

/*
 * Locally detectable bad input: each must be refused before any request (the shared runner
 * asserts 0 requests on every case here) with a message naming the field and the rule it broke.
 * Expressions ({{ … }}) are how bad values reach a node in practice: the editor's field types
 * only guard what is typed in.
 */
const suite = faultSuite(__filename);

const recreate = (structuredPrompt: unknown, seed: unknown = 7): INodeParameters =>
	imageParams({ inputMode: 'recreate', structuredPrompt: structuredPrompt as string, seed: seed as number, prompt: undefined as unknown as string });

interface BadInput {
	name: string;
	parameters: INodeParameters;
	/** The whole message after "Invalid input: " (or the credential message), field label first. */
	message: string;
	items?: INodeExecutionData[];
	credentials?: Partial<BriaCredential>;
	/** Settings or credential: refused for the node as a whole rather than for one item. */
	nodeWide?: boolean;
}

const BAD_INPUTS: BadInput[] = [
	// n8n itself refuses to run a workflow whose required field is typed in empty: these come from data.
	{
		name: 'empty prompt (from the item)',
		parameters: imageParams({ prompt: '={{ $json.caption }}' }),
		items: [{ json: { caption: '' } }],
		message: 'Invalid input: Prompt: must not be empty',
	},
	{ name: 'whitespace-only prompt', parameters: imageParams({ prompt: ' \n\t ' }), message: 'Invalid input: Prompt: must not be empty' },
	{
		name: 'prompt expression that resolves to nothing',
		parameters: imageParams({ prompt: '={{ $json.caption }}' }),
		message: 'Invalid input: Prompt: is required',
	},
	{ name: 'prompt that is a number (expression)', parameters: imageParams({ prompt: '={{ 42 }}' }), message: 'Invalid input: Prompt: must be text' },
	{
		name: 'huge prompt (10,001 characters)',
		parameters: imageParams({ prompt: 'x'.repeat(10_001) }),
		message: 'Invalid input: Prompt: must be at most 10000 characters',
	},
	{
		name: 'recreate without a seed (expression finds none)',
		parameters: recreate('{"short_description": "a mug"}', '={{ $json.seed }}'),
		message: 'Invalid input: Seed: is required: the seed of the image to recreate, e.g. {{ $json.seed }} from an earlier Bria node',
	},
	{ name: 'non-integer seed', parameters: recreate('{"short_description": "a mug"}', 1.5), message: 'Invalid input: Seed: must be a whole number' },
	{ name: 'negative seed', parameters: recreate('{"short_description": "a mug"}', -1), message: 'Invalid input: Seed: must be 0 or greater' },
	{
		name: 'seed "abc" from an expression',
		parameters: recreate('{"short_description": "a mug"}', '={{ "abc" }}'),
		message: 'Invalid input: Seed: must be a whole number',
	},
	{
		name: 'structured prompt that is not JSON',
		parameters: recreate('{"short_description": "a mug",'),
		message: 'Invalid input: Structured Prompt: is not valid JSON: ',
	},
	{
		name: 'structured prompt that is JSON but not an object',
		parameters: recreate('"a mug on a table"'),
		message: 'Invalid input: Structured Prompt: must be a JSON object (got a string)',
	},
	{
		name: 'structured prompt that is an array',
		parameters: recreate('[{"short_description": "a mug"}]'),
		message: 'Invalid input: Structured Prompt: must be a JSON object (got an array)',
	},
	{
		name: 'structured prompt with a known key of the wrong type',
		parameters: recreate('{"short_description": "a mug", "objects": "one mug"}'),
		message: 'Invalid input: Structured Prompt → objects: must be an array of objects',
	},
	{
		name: 'refine with an empty structured prompt',
		parameters: structuredPromptParams({ inputMode: 'refine', structuredPrompt: '  ', prompt: 'warmer light' }),
		message: 'Invalid input: Structured Prompt: must not be empty',
	},
	{ name: 'guidance scale out of range (9)', parameters: imageParams({}, { guidanceScale: 9 }), message: 'Invalid input: Guidance Scale: must be 3 to 5' },
	{ name: 'steps "abc" from an expression', parameters: imageParams({}, { stepsNum: '={{ "abc" }}' }), message: 'Invalid input: Steps: must be a whole number' },
	{ name: 'steps not a whole number (35.5)', parameters: imageParams({}, { stepsNum: 35.5 }), message: 'Invalid input: Steps: must be a whole number' },
	{ name: 'model influence out of range (2)', parameters: imageParams({}, { modelInfluence: 2 }), message: 'Invalid input: Model Influence: must be 0 to 1.5' },
	{
		name: 'unknown aspect ratio (7:3, expression)',
		parameters: imageParams({}, { aspectRatio: '={{ "7:3" }}' }),
		message: `Invalid input: Aspect Ratio: must be one of ${ASPECT_RATIOS.join(', ')}`,
	},
	{
		name: 'negative prompt too long',
		parameters: imageParams({}, { negativePrompt: 'blur '.repeat(2_001) }),
		message: 'Invalid input: Negative Prompt: must be at most 10000 characters',
	},
	{
		name: 'empty model (from the item)',
		parameters: imageParams({ model: modelById('={{ $json.model }}') }),
		items: [{ json: { model: '' } }],
		message: 'Invalid input: Model: is required: pick a tailored model or enter its ID',
	},
	{
		name: 'model ID with spaces (from the item)',
		parameters: imageParams({ model: modelById('={{ $json.model }}') }),
		items: [{ json: { model: 'brand model 7' } }],
		message: 'Invalid input: Model: must be a model ID such as 1234 (letters, digits, . _ - only; no spaces)',
	},
	{ name: 'max wait time 0', parameters: imageParams({}, { maxWaitTime: 0 }), message: 'Invalid input: Max Wait Time (Seconds): must be more than 0 seconds' },
	{
		name: 'max wait time over 2 hours',
		parameters: imageParams({}, { maxWaitTime: 99_999 }),
		message: 'Invalid input: Max Wait Time (Seconds): must be at most 7200 seconds',
	},
	{
		name: 'binary field name with a space',
		parameters: imageParams({}, { binaryPropertyName: 'my image' }),
		message: 'Invalid input: Put Output in Field: must be a simple name such as data',
	},
	{
		name: 'Wait for Completion "yes" from an expression',
		parameters: imageParams({ waitForCompletion: '={{ "yes" }}' }),
		message: 'Invalid input: Wait for Completion: must be true or false',
	},
	{
		name: 'request ID with spaces (Get Status)',
		parameters: getStatusParams('abc def'),
		message: 'Invalid input: Request ID: must be a Bria request ID (letters, digits, . _ : - only)',
	},
	{
		name: 'two broken fields at once',
		parameters: imageParams({ prompt: '={{ $json.caption }}' }, { guidanceScale: 2 }),
		items: [{ json: { caption: '  ' } }],
		message: 'Invalid input: Prompt: must not be empty; Guidance Scale: must be 3 to 5',
	},
	{ name: 'concurrency -1', parameters: imageParams({}, { concurrency: -1 }), message: 'Invalid input: Concurrency: must be 0 (no cap) to 10000', nodeWide: true },
	{ name: 'images per item 9', parameters: imageParams({}, { imagesPerItem: 9 }), message: 'Invalid input: Images per Item: must be 1 to 8' },
	{
		name: 'negative requests per minute',
		parameters: imageParams({}, { requestsPerMinute: -5 }),
		message: 'Invalid input: Requests per Minute: must be 0 (no cap) or more',
		nodeWide: true,
	},
	{
		// From review: 1.5 became a fractional window index, and the cap let everything through.
		name: 'fractional requests per minute',
		parameters: imageParams({}, { requestsPerMinute: 1.5 }),
		message: 'Invalid input: Requests per Minute: must be a whole number',
		nodeWide: true,
	},
	{
		name: 'credential base URL ftp://',
		parameters: imageParams(),
		credentials: { baseUrl: 'ftp://engine.prod.bria-api.com' },
		message: 'Bria API credential: Base URL must start with http:// or https:// (got "ftp:")',
		nodeWide: true,
	},
	{
		name: 'credential base URL that is not a URL',
		parameters: imageParams(),
		credentials: { baseUrl: 'engine.prod.bria-api.com/v2' },
		message: 'Bria API credential: Base URL "engine.prod.bria-api.com/v2" is not a valid URL',
		nodeWide: true,
	},
];

describe('bad input: refused with the field and the rule, before any request', () => {
	for (const bad of BAD_INPUTS) {
		suite.case(
			{
				group: 'bad input',
				name: bad.name,
				expected: bad.message.replace(/^Invalid input: /, '').replace(/: $/, ': (the parser\'s reason)'),
				parameters: bad.parameters,
				items: bad.items,
				credentials: bad.credentials,
				nodeWide: bad.nodeWide,
			},
			({ error }) => {
				if (bad.message.endsWith(': ')) expect(error?.message.startsWith(bad.message)).toBe(true);
				else expect(error?.message).toBe(bad.message);
				if (!bad.nodeWide) {
					expect(error?.description).toBe('Nothing was sent to Bria for this item.');
					expect(error?.context?.itemIndex).toBe(0);
				}
			},
		);
	}

	suite.case(
		{
			group: 'bad input',
			name: 'credential base URL ftp://, Continue On Fail, 2 items',
			expected: 'one error item per input item',
			parameters: imageParams(),
			items: [{ json: { id: 'a' } }, { json: { id: 'b' } }],
			continueOnFail: true,
			credentials: { baseUrl: 'ftp://engine.prod.bria-api.com' },
		},
		({ error, items }) => {
			// A node-wide setting fails every item alike: one error item each, nothing sent.
			expect(error).toBeUndefined();
			const message = 'Bria API credential: Base URL must start with http:// or https:// (got "ftp:")';
			expect(items.map((item) => item.json)).toEqual([{ error: message }, { error: message }]);
			expect(items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		},
	);
});
