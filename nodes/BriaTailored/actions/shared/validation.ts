import { z } from 'zod';

/*
 * Rules for every value that reaches Bria. n8n's field types only guard what is typed into the
 * editor; expressions ({{ $json.x }}) deliver anything, so each item is checked here before any
 * request is sent. Messages name the field as the user sees it and the rule it broke.
 */

export const ASPECT_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9'] as const;
export const MAX_PROMPT_LENGTH = 10_000;
export const MAX_STRUCTURED_PROMPT_LENGTH = 100_000;
export const MAX_WAIT_SECONDS = 7_200;
/** Jobs in flight per node run when a workflow caps them; above Bria's largest plans per minute. */
export const MAX_CONCURRENCY = 10_000;
export const MAX_IMAGES_PER_ITEM = 8;
/** As an AI agent's tool, the model may ask for at most this many images per call. */
export const MAX_IMAGES_PER_TOOL_CALL = 4;

/** Plain decimal text only: Number() would also read "0x10" or "1e3" as another value than the one typed. */
const DECIMAL_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Numbers from expressions and forms often arrive as text: accept "42", refuse "42a". */
const numeric = (schema: z.ZodNumber) =>
	z.preprocess((value) => (typeof value === 'string' && DECIMAL_TEXT.test(value.trim()) ? Number(value) : value), schema);

const number = (what = 'a number') =>
	z.number({ invalid_type_error: `must be ${what}`, required_error: 'is required' });

const wholeSeed = (requiredMessage = 'is required') =>
	numeric(
		z
			.number({ invalid_type_error: 'must be a whole number', required_error: requiredMessage })
			.int('must be a whole number')
			.min(0, 'must be 0 or greater')
			.max(Number.MAX_SAFE_INTEGER, 'is too large'),
	);

export const seedSchema = wholeSeed();

/*
 * Recreate's seed: never set (a saved workflow without it, an empty field) or mapped to nothing
 * ({{ $json.seed }} on an item without one) is an error, not seed 0: 0 would bill a different image.
 */
export const requiredSeedSchema = z.preprocess(
	(value) => (value === null || (typeof value === 'string' && !value.trim()) ? undefined : value),
	wholeSeed('is required: the seed of the image to recreate, e.g. {{ $json.seed }} from an earlier Bria node'),
);

export const modelIdSchema = z.preprocess(
	// Bria's model list gives IDs as integers: {{ $json.id }} arrives as a number.
	(value) => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value),
	z
		.string({ invalid_type_error: 'must be text', required_error: 'is required' })
		.trim()
		.min(1, 'is required: pick a tailored model or enter its ID')
		.regex(/^[A-Za-z0-9._-]*$/, 'must be a model ID such as 1234 (letters, digits, . _ - only; no spaces)'),
);

export const promptSchema = z
	.string({ invalid_type_error: 'must be text', required_error: 'is required' })
	.trim()
	.min(1, 'must not be empty')
	.max(MAX_PROMPT_LENGTH, `must be at most ${MAX_PROMPT_LENGTH} characters`);

export const negativePromptSchema = z
	.string({ invalid_type_error: 'must be text' })
	.max(MAX_PROMPT_LENGTH, `must be at most ${MAX_PROMPT_LENGTH} characters`);

export const aspectRatioSchema = z.enum(ASPECT_RATIOS, {
	errorMap: () => ({ message: `must be one of ${ASPECT_RATIOS.join(', ')}` }),
});

export const guidanceScaleSchema = numeric(
	number('a whole number').int('must be a whole number').min(3, 'must be 3 to 5').max(5, 'must be 3 to 5'),
);

export const stepsNumSchema = numeric(
	number('a whole number').int('must be a whole number').min(20, 'must be 20 to 50').max(50, 'must be 20 to 50'),
);

export const modelInfluenceSchema = numeric(
	number().min(0, 'must be 0 to 1.5').max(1.5, 'must be 0 to 1.5'),
);

/** Webhook query and body values arrive as text: accept "true"/"false" (any case), nothing else. */
export const booleanSchema = z.preprocess((value) => {
	if (typeof value !== 'string') return value;
	const text = value.trim().toLowerCase();
	return text === 'true' ? true : text === 'false' ? false : value;
}, z.boolean({ invalid_type_error: 'must be true or false' }));

export const maxWaitTimeSchema = numeric(
	number().positive('must be more than 0 seconds').max(MAX_WAIT_SECONDS, `must be at most ${MAX_WAIT_SECONDS} seconds`),
);

export const binaryPropertyNameSchema = z
	.string({ invalid_type_error: 'must be text' })
	.trim()
	.min(1, 'must not be empty')
	.regex(/^[A-Za-z0-9_.-]+$/, 'must be a simple name such as data');

export const requestIdSchema = z
	.string({ invalid_type_error: 'must be text', required_error: 'is required' })
	.trim()
	.min(1, 'is required')
	.regex(/^[A-Za-z0-9_.:-]+$/, 'must be a Bria request ID (letters, digits, . _ : - only)');

export const concurrencySchema = numeric(
	number('a whole number')
		.int('must be a whole number')
		.min(0, `must be 0 (no cap) to ${MAX_CONCURRENCY}`)
		.max(MAX_CONCURRENCY, `must be 0 (no cap) to ${MAX_CONCURRENCY}`),
);

export const imagesPerItemSchema = numeric(
	number('a whole number')
		.int('must be a whole number')
		.min(1, `must be 1 to ${MAX_IMAGES_PER_ITEM}`)
		.max(MAX_IMAGES_PER_ITEM, `must be 1 to ${MAX_IMAGES_PER_ITEM}`),
);

export const requestsPerMinuteSchema = numeric(
	number('a whole number').int('must be a whole number').min(0, 'must be 0 (no cap) or more').max(10_000, 'must be at most 10000'),
);

/*
 * The structured prompt (FIBO) is a JSON object. We check the types of the keys we know, so a
 * broken edit is caught here with its key named, and pass every other key through unchanged:
 * Bria adds keys over time.
 */
const text = z.string({ invalid_type_error: 'must be text' });
const nullableText = text.nullable().optional();
const section = (keys: string[]) =>
	z
		.object(Object.fromEntries(keys.map((key) => [key, nullableText])), {
			invalid_type_error: 'must be an object',
		})
		.passthrough()
		.nullable()
		.optional();

const structuredPromptShape = z
	.object({
		short_description: nullableText,
		objects: z
			.array(z.object({}, { invalid_type_error: 'must be an object' }).passthrough(), {
				invalid_type_error: 'must be an array of objects',
			})
			.nullable()
			.optional(),
		background_setting: nullableText,
		lighting: section(['conditions', 'direction', 'shadows']),
		aesthetics: section(['composition', 'color_scheme', 'mood_atmosphere']),
		photographic_characteristics: section(['depth_of_field', 'focus', 'camera_angle', 'lens_focal_length']),
		style_medium: nullableText,
		text_render: z
			.array(z.object({}, { invalid_type_error: 'must be an object' }).passthrough(), {
				invalid_type_error: 'must be an array',
			})
			.nullable()
			.optional(),
		context: nullableText,
		artistic_style: nullableText,
	})
	.passthrough();

export type StructuredPrompt = z.infer<typeof structuredPromptShape>;

/** Accepts JSON text or an object (e.g. `{{ $json.structured_prompt }}` from an earlier Bria node). */
export const structuredPromptSchema = z.unknown().transform((value, ctx): StructuredPrompt => {
	let parsed: unknown = value;
	if (typeof value === 'string') {
		const textValue = value.trim();
		if (!textValue) {
			ctx.addIssue({ code: 'custom', message: 'must not be empty' });
			return z.NEVER;
		}
		if (textValue.length > MAX_STRUCTURED_PROMPT_LENGTH) {
			ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_STRUCTURED_PROMPT_LENGTH} characters` });
			return z.NEVER;
		}
		try {
			parsed = JSON.parse(textValue);
		} catch (error) {
			ctx.addIssue({ code: 'custom', message: `is not valid JSON: ${(error as Error).message}` });
			return z.NEVER;
		}
	}
	if (parsed === null || parsed === undefined || parsed === '') {
		ctx.addIssue({ code: 'custom', message: 'is required' });
		return z.NEVER;
	}
	if (typeof parsed !== 'object' || Array.isArray(parsed)) {
		const kind = Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
		ctx.addIssue({ code: 'custom', message: `must be a JSON object (got ${kind})` });
		return z.NEVER;
	}
	// An object (from an expression) is sent as JSON text: the same limit applies to that text.
	if (typeof value !== 'string' && JSON.stringify(parsed).length > MAX_STRUCTURED_PROMPT_LENGTH) {
		ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_STRUCTURED_PROMPT_LENGTH} characters` });
		return z.NEVER;
	}
	const result = structuredPromptShape.safeParse(parsed);
	if (!result.success) {
		for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: issue.path });
		return z.NEVER;
	}
	return result.data;
});

/** "Structured Prompt → objects[0]: must be an object" — the field's label, the key path, the rule. */
export function describeIssues(error: z.ZodError, labels: Record<string, string>): string {
	return error.issues
		.map((issue) => {
			const [field, ...rest] = issue.path;
			const label = labels[String(field)] ?? String(field ?? 'Input');
			const keyPath = rest
				.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index ? '.' : ''}${part}`))
				.join('');
			return `${label}${keyPath ? ` → ${keyPath}` : ''}: ${issue.message}`;
		})
		.join('; ');
}
