import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	imageInputModeField,
	modelField,
	optionsCollection,
	promptField,
	recreateSeedField,
	structuredPromptField,
	waitForCompletionField,
} from '../shared/fields';
import type { InputMode } from '../shared/fields';
import { readInputMode, readValidated, toBriaBody, waitSettings } from '../shared/parameters';
import { runsAsAgentTool } from '../shared/output';
import { MAX_IMAGES_PER_TOOL_CALL } from '../shared/validation';
import type { BriaOperation } from '../types';

/*
 * POST /v2/image/generate/tailored. Exactly one input combination per mode:
 * prompt → prompt; recreate → structured_prompt + seed; refine → structured_prompt + prompt.
 */
export const generateImage: BriaOperation = {
	resource: 'image',
	operation: 'generate',
	properties: [
		modelField,
		imageInputModeField,
		promptField,
		structuredPromptField,
		recreateSeedField,
		waitForCompletionField,
		optionsCollection(
			[
				'aspectRatio',
				'negativePrompt',
				'guidanceScale',
				'stepsNum',
				'modelInfluence',
				'seed',
				'promptContentModeration',
				'visualOutputContentModeration',
				'maxWaitTime',
				'downloadImage',
				'binaryPropertyName',
				'imagesPerItem',
				'concurrency',
				'requestsPerMinute',
			],
			// In Recreate the seed is a required field of its own.
			{ seed: ['prompt', 'refine'] },
		),
	],
	prepare(ctx: IExecuteFunctions, itemIndex: number) {
		const mode = readInputMode<InputMode>(ctx, itemIndex, ['prompt', 'recreate', 'refine']);
		const values = readValidated(
			ctx,
			itemIndex,
			mode === 'prompt'
				? ['model', 'prompt', 'waitForCompletion']
				: mode === 'recreate'
					? ['model', 'structuredPrompt', 'seed', 'waitForCompletion']
					: ['model', 'prompt', 'structuredPrompt', 'waitForCompletion'],
			[
				'aspectRatio',
				'negativePrompt',
				'guidanceScale',
				'stepsNum',
				'modelInfluence',
				...(mode === 'recreate' ? [] : (['seed'] as const)),
				'promptContentModeration',
				'visualOutputContentModeration',
				'maxWaitTime',
				'downloadImage',
				'binaryPropertyName',
				'imagesPerItem',
			],
			// As an agent's tool, the model asks for the number: it gets at most a few per call (asking
			// for more is no error: the field's own limit of 8 is not what the model was told).
			runsAsAgentTool(ctx) ? { imagesPerItem: MAX_IMAGES_PER_TOOL_CALL } : {},
		);
		const copies = Number(values.imagesPerItem ?? 1);
		// Images per Item with a seed sends seed, seed + 1, …: the last one must still be a valid seed.
		if (typeof values.seed === 'number' && values.seed > Number.MAX_SAFE_INTEGER - (copies - 1)) {
			throw new NodeOperationError(ctx.getNode(), `Invalid input: Seed: with Images per Item ${copies}, must be at most ${Number.MAX_SAFE_INTEGER - copies + 1}`, {
				itemIndex,
				description: 'Nothing was sent to Bria for this item. Images per Item uses seed, seed + 1, …',
			});
		}
		return {
			submit: { path: '/v2/image/generate/tailored', body: toBriaBody(values) },
			expects: 'image',
			...waitSettings(values),
			copies,
		};
	},
};
