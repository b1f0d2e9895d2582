import type { IExecuteFunctions } from 'n8n-workflow';

import {
	structuredPromptInputModeField,
	modelField,
	optionsCollection,
	promptField,
	structuredPromptField,
	waitForCompletionField,
} from '../shared/fields';
import type { InputMode } from '../shared/fields';
import { readInputMode, readValidated, toBriaBody, waitSettings } from '../shared/parameters';
import type { BriaOperation } from '../types';

/*
 * POST /v2/structured_prompt/generate/tailored: the FIBO JSON only, no image.
 * prompt → prompt; refine → structured_prompt + prompt. Image-only fields are never sent here.
 */
export const generateStructuredPrompt: BriaOperation = {
	resource: 'structuredPrompt',
	operation: 'generate',
	properties: [
		modelField,
		structuredPromptInputModeField,
		promptField,
		structuredPromptField,
		waitForCompletionField,
		optionsCollection(['seed', 'promptContentModeration', 'maxWaitTime', 'concurrency', 'requestsPerMinute']),
	],
	prepare(ctx: IExecuteFunctions, itemIndex: number) {
		const mode = readInputMode<InputMode>(ctx, itemIndex, ['prompt', 'refine']);
		const values = readValidated(
			ctx,
			itemIndex,
			mode === 'refine'
				? ['model', 'prompt', 'structuredPrompt', 'waitForCompletion']
				: ['model', 'prompt', 'waitForCompletion'],
			['seed', 'promptContentModeration', 'maxWaitTime'],
		);
		return {
			submit: { path: '/v2/structured_prompt/generate/tailored', body: toBriaBody(values) },
			expects: 'structuredPrompt',
			...waitSettings(values),
		};
	},
};
