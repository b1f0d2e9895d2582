import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { z } from 'zod';

import { modelField, option, promptField, recreateSeedField, requestIdField, structuredPromptField, waitForCompletionField } from './fields';
import type { OptionName } from './fields';
import type { JobSpec } from '../types';
import * as rules from './validation';

/*
 * One table says, for every parameter: the rule its value must meet and the Bria field it is
 * sent as. Operations only list which parameters they use; reading, validating and mapping to
 * Bria's names happen here, the same way for all of them.
 */

type TopLevelName = 'model' | 'prompt' | 'structuredPrompt' | 'seed' | 'requestId' | 'waitForCompletion';
type ParameterName = TopLevelName | OptionName;

const RULES: Record<ParameterName, z.ZodTypeAny> = {
	model: rules.modelIdSchema,
	prompt: rules.promptSchema,
	structuredPrompt: rules.structuredPromptSchema,
	seed: rules.seedSchema,
	requestId: rules.requestIdSchema,
	waitForCompletion: rules.booleanSchema,
	negativePrompt: rules.negativePromptSchema,
	aspectRatio: rules.aspectRatioSchema,
	guidanceScale: rules.guidanceScaleSchema,
	stepsNum: rules.stepsNumSchema,
	modelInfluence: rules.modelInfluenceSchema,
	promptContentModeration: rules.booleanSchema,
	visualOutputContentModeration: rules.booleanSchema,
	maxWaitTime: rules.maxWaitTimeSchema,
	downloadImage: rules.booleanSchema,
	binaryPropertyName: rules.binaryPropertyNameSchema,
	concurrency: rules.concurrencySchema,
	imagesPerItem: rules.imagesPerItemSchema,
	requestsPerMinute: rules.requestsPerMinuteSchema,
};

/** Where a required top-level parameter has a stricter rule than the option of the same name. */
const REQUIRED_RULES: Partial<Record<TopLevelName, z.ZodTypeAny>> = {
	seed: rules.requiredSeedSchema,
};

const LABELS: Record<string, string> = {
	model: modelField.displayName,
	prompt: promptField.displayName,
	structuredPrompt: structuredPromptField.displayName,
	seed: recreateSeedField.displayName,
	requestId: requestIdField.displayName,
	waitForCompletion: waitForCompletionField.displayName,
	...Object.fromEntries(Object.values(option).map((o) => [o.name, o.displayName])),
};

/** Bria's field name for each parameter that goes into a request body. */
const BRIA_FIELD: Partial<Record<ParameterName, string>> = {
	model: 'tailored_model_id',
	prompt: 'prompt',
	structuredPrompt: 'structured_prompt',
	seed: 'seed',
	negativePrompt: 'negative_prompt',
	aspectRatio: 'aspect_ratio',
	guidanceScale: 'guidance_scale',
	stepsNum: 'steps_num',
	modelInfluence: 'tailored_model_influence',
	promptContentModeration: 'prompt_content_moderation',
	visualOutputContentModeration: 'visual_output_content_moderation',
};

export type Values = Partial<Record<ParameterName, unknown>>;

const schemas = new Map<string, z.ZodTypeAny>();

/** One zod object per combination of fields, built once: building it costs more than using it. */
function schemaFor(required: TopLevelName[], optional: OptionName[]): z.ZodTypeAny {
	const key = `${required.join(',')}|${optional.join(',')}`;
	let schema = schemas.get(key);
	if (!schema) {
		schema = z.object(
			Object.fromEntries([
				...required.map((name) => [name, REQUIRED_RULES[name] ?? RULES[name]]),
				...optional.map((name) => [name, RULES[name].optional()]),
			]),
		);
		schemas.set(key, schema);
	}
	return schema;
}

/**
 * Reads the named parameters of item `itemIndex` (top-level ones are required, options only when
 * set) and checks them all at once, so one error names every broken field.
 */
export function readValidated(
	ctx: IExecuteFunctions,
	itemIndex: number,
	required: TopLevelName[],
	optional: OptionName[],
	/** Upper bounds applied to numbers before the rules (a value above becomes the bound, not an error). */
	atMost: Partial<Record<OptionName, number>> = {},
): Values {
	const raw: Record<string, unknown> = {};
	for (const name of required) {
		raw[name] =
			name === 'model'
				? ctx.getNodeParameter(name, itemIndex, '', { extractValue: true })
				: ctx.getNodeParameter(name, itemIndex, undefined);
	}
	const options = ctx.getNodeParameter('options', itemIndex, {}) as IDataObject;
	for (const name of optional) {
		if (options[name] !== undefined && options[name] !== null && options[name] !== '') raw[name] = options[name];
		const bound = atMost[name];
		const value = typeof raw[name] === 'string' ? Number(raw[name]) : raw[name];
		if (bound !== undefined && typeof value === 'number' && value > bound) raw[name] = bound;
	}
	const result = schemaFor(required, optional).safeParse(raw);
	if (!result.success) {
		const message = rules.describeIssues(result.error, LABELS);
		throw new NodeOperationError(ctx.getNode(), `Invalid input: ${message}`, {
			itemIndex,
			description: 'Nothing was sent to Bria for this item.',
		});
	}
	return result.data as Values;
}

/**
 * The item's input mode, if the operation has it. A workflow may carry another operation's mode
 * (imported, or edited by hand): that is an error, never a silent run in some other mode.
 */
export function readInputMode<Mode extends string>(ctx: IExecuteFunctions, itemIndex: number, modes: readonly Mode[]): Mode {
	const mode = ctx.getNodeParameter('inputMode', itemIndex) as string;
	if ((modes as readonly string[]).includes(mode)) return mode as Mode;
	throw new NodeOperationError(ctx.getNode(), `Invalid input: Input Mode: must be one of ${modes.join(', ')} (got "${mode}")`, {
		itemIndex,
		description: 'Nothing was sent to Bria for this item. Pick an Input Mode this operation offers.',
	});
}

/** The request body for Bria: only the parameters that were set, under Bria's names. */
export function toBriaBody(values: Values): IDataObject {
	const body: IDataObject = {};
	for (const [name, value] of Object.entries(values)) {
		const field = BRIA_FIELD[name as ParameterName];
		if (!field || value === undefined) continue;
		// Bria wants the model id as a string and the structured prompt as a JSON-encoded string.
		if (name === 'model') body[field] = String(value);
		else if (name === 'structuredPrompt') body[field] = JSON.stringify(value);
		else body[field] = value as IDataObject[string];
	}
	body.sync = false;
	return body;
}

/** Wait and output settings shared by every operation. */
export function waitSettings(values: Values): Pick<JobSpec, 'waitForCompletion' | 'maxWaitMs' | 'download' | 'binaryPropertyName'> {
	return {
		waitForCompletion: values.waitForCompletion !== false,
		maxWaitMs: Number(values.maxWaitTime ?? option.maxWaitTime.default) * 1000,
		download: values.downloadImage !== false,
		binaryPropertyName: String(values.binaryPropertyName ?? option.binaryPropertyName.default),
	};
}

/** Node-wide settings, read once from the first item. */
export function batchSettings(ctx: IExecuteFunctions): { concurrency: number; requestsPerMinute: number } {
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	// An empty value (an expression that gave nothing) is the option unset, as for every other option.
	const unset = (value: unknown) => (value === '' || value === null ? undefined : value);
	const parsed = schemaFor([], ['concurrency', 'requestsPerMinute']).safeParse({
		concurrency: unset(options.concurrency),
		requestsPerMinute: unset(options.requestsPerMinute),
	});
	if (!parsed.success) {
		throw new NodeOperationError(ctx.getNode(), `Invalid input: ${rules.describeIssues(parsed.error, LABELS)}`, {
			description: 'Nothing was sent to Bria.',
		});
	}
	const settings = parsed.data as Values;
	return {
		concurrency: Number(settings.concurrency ?? option.concurrency.default),
		requestsPerMinute: Number(settings.requestsPerMinute ?? 0),
	};
}
