import { z } from 'zod';

import * as rules from '../../../../../nodes/BriaTailored/actions/shared/validation';
import { imageParameters, useSimulator } from '../../../../harness/fixtures';
import { runBriaNode } from '../../../../harness/runNode';

const bria = useSimulator();

function messageOf(schema: z.ZodTypeAny, value: unknown, label = 'Field'): string {
	const result = z.object({ field: schema }).safeParse({ field: value });
	if (result.success) return 'ok';
	return rules.describeIssues(result.error, { field: label });
}

describe('validation rules', () => {
	test('structured prompt: JSON text or object; parse errors give the position, wrong keys are named', () => {
		expect(messageOf(rules.structuredPromptSchema, '{"short_description": "x",}', 'Structured Prompt')).toMatch(
			/^Structured Prompt: is not valid JSON: .*position 26/,
		);
		expect(messageOf(rules.structuredPromptSchema, '[1,2]', 'Structured Prompt')).toBe('Structured Prompt: must be a JSON object (got an array)');
		expect(messageOf(rules.structuredPromptSchema, '"text"', 'Structured Prompt')).toBe('Structured Prompt: must be a JSON object (got a string)');
		expect(messageOf(rules.structuredPromptSchema, { lighting: 'bright' }, 'Structured Prompt')).toBe(
			'Structured Prompt → lighting: must be an object',
		);
		expect(messageOf(rules.structuredPromptSchema, { objects: [{}, 'a chair'] }, 'Structured Prompt')).toBe(
			'Structured Prompt → objects[1]: must be an object',
		);
		// Keys Bria adds later pass through untouched.
		const parsed = z.object({ sp: rules.structuredPromptSchema }).parse({ sp: '{"short_description":"a","new_key":{"x":1}}' });
		expect(parsed.sp).toEqual({ short_description: 'a', new_key: { x: 1 } });
	});

	test('numbers from expressions: numeric text is accepted, anything else names the rule', () => {
		expect(messageOf(rules.seedSchema, '42')).toBe('ok');
		expect(messageOf(rules.seedSchema, '42a')).toBe('Field: must be a whole number');
		// Only decimal digits count as a number in text: hex and exponent forms would send another seed.
		expect(messageOf(rules.seedSchema, ' 42 ')).toBe('ok');
		expect(messageOf(rules.seedSchema, '0x10')).toBe('Field: must be a whole number');
		expect(messageOf(rules.seedSchema, '1e3')).toBe('Field: must be a whole number');
		expect(messageOf(rules.modelInfluenceSchema, '0.75')).toBe('ok');
		expect(messageOf(rules.modelInfluenceSchema, '.5')).toBe('ok');
		expect(messageOf(rules.modelInfluenceSchema, 'Infinity')).toBe('Field: must be a number');
		expect(messageOf(rules.seedSchema, -1)).toBe('Field: must be 0 or greater');
		expect(messageOf(rules.seedSchema, 1.5)).toBe('Field: must be a whole number');
		expect(messageOf(rules.guidanceScaleSchema, 6)).toBe('Field: must be 3 to 5');
		expect(messageOf(rules.stepsNumSchema, 19)).toBe('Field: must be 20 to 50');
		expect(messageOf(rules.modelInfluenceSchema, 1.6)).toBe('Field: must be 0 to 1.5');
		expect(messageOf(rules.aspectRatioSchema, '21:9')).toBe(`Field: must be one of ${rules.ASPECT_RATIOS.join(', ')}`);
	});

	test('model IDs and prompts', () => {
		expect(messageOf(rules.modelIdSchema, ' ')).toBe('Field: is required: pick a tailored model or enter its ID');
		expect(messageOf(rules.modelIdSchema, '12 34')).toMatch(/^Field: must be a model ID/);
		expect(messageOf(rules.promptSchema, '   ')).toBe('Field: must not be empty');
		expect(messageOf(rules.promptSchema, 'x'.repeat(rules.MAX_PROMPT_LENGTH + 1))).toBe(
			`Field: must be at most ${rules.MAX_PROMPT_LENGTH} characters`,
		);
	});
});

describe('bad items are stopped before any request', () => {
	test('one bad item without Continue On Fail: nothing is sent for any item', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: { seed: 1 } }, { json: { seed: 'abc' } }],
			parameters: imageParameters({ inputMode: 'recreate', structuredPrompt: '{"short_description":"a"}', seed: '={{ $json.seed }}' }),
		});
		expect(result.error?.message).toBe('Invalid input: Seed: must be a whole number');
		expect(result.error?.description).toBe('Nothing was sent to Bria for this item.');
		expect(result.error?.context?.itemIndex).toBe(1);
		expect(bria.sim.log).toHaveLength(0);
	});

	test('with Continue On Fail: the bad item becomes an error item, the good one runs', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			items: [{ json: { p: 'A boat' } }, { json: { p: '  ' } }],
			parameters: imageParameters({ inputMode: 'refine', structuredPrompt: '{"lighting": 3}', prompt: '={{ $json.p }}', options: { downloadImage: false } }),
		});
		expect(result.items.map((item) => item.json.error)).toEqual([
			'Invalid input: Structured Prompt → lighting: must be an object',
			'Invalid input: Prompt: must not be empty; Structured Prompt → lighting: must be an object',
		]);
		expect(bria.sim.log).toHaveLength(0);
	});
});
