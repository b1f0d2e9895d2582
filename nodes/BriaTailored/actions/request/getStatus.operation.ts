import type { IExecuteFunctions } from 'n8n-workflow';

import { optionsCollection, requestIdField, waitForCompletionField } from '../shared/fields';
import { readValidated, waitSettings } from '../shared/parameters';
import type { BriaOperation } from '../types';

/** GET /v2/status/{request_id}: resume a job submitted earlier, with the same output as generate. */
export const getStatus: BriaOperation = {
	resource: 'request',
	operation: 'getStatus',
	properties: [
		requestIdField,
		{
			...waitForCompletionField,
			description: 'Whether to keep checking until the job is done. Off: check once and return its current state.',
		},
		optionsCollection(['maxWaitTime', 'downloadImage', 'binaryPropertyName', 'concurrency', 'requestsPerMinute']),
	],
	prepare(ctx: IExecuteFunctions, itemIndex: number) {
		const values = readValidated(
			ctx,
			itemIndex,
			['requestId', 'waitForCompletion'],
			['maxWaitTime', 'downloadImage', 'binaryPropertyName'],
		);
		return { requestId: String(values.requestId), expects: 'any', ...waitSettings(values) };
	},
};
