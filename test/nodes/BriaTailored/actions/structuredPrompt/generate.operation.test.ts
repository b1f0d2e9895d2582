import { imageParameters, structuredPromptParameters, useSimulator } from '../../../../harness/fixtures';
import { binaryBuffer, runBriaNode } from '../../../../harness/runNode';

const bria = useSimulator();

describe('Structured Prompt → Generate', () => {
	test('prompt mode: returns the FIBO structured prompt as an object and the seed, no image', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: structuredPromptParameters({ inputMode: 'prompt', prompt: 'A bowl of ramen', options: { seed: 5 } }),
		});
		expect(result.error).toBeUndefined();
		expect(bria.sim.requests('submitStructuredPrompt').map((entry) => entry.body)).toEqual([
			{ tailored_model_id: '101', prompt: 'A bowl of ramen', seed: 5, sync: false },
		]);
		expect(result.items[0].json).toEqual({
			request_id: expect.any(String),
			status: 'COMPLETED',
			seed: 5,
			structured_prompt: expect.objectContaining({ short_description: expect.stringContaining('ramen'), objects: expect.any(Array) }),
		});
		expect(result.items[0].binary).toBeUndefined();
		expect(bria.sim.requests('image')).toHaveLength(0);
	});

	test('image-only options stored on the node are never sent to the structured-prompt endpoint', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: structuredPromptParameters({
				inputMode: 'prompt',
				prompt: 'A bowl of ramen',
				// Left over from when the node was set to Image: the simulator answers 400 to any of these.
				options: { aspectRatio: '16:9', negativePrompt: 'x', guidanceScale: 4, stepsNum: 30, modelInfluence: 1, visualOutputContentModeration: false, promptContentModeration: false },
			}),
		});
		expect(result.error).toBeUndefined();
		expect(bria.sim.requests('submitStructuredPrompt')[0].body).toEqual({
			tailored_model_id: '101',
			prompt: 'A bowl of ramen',
			prompt_content_moderation: false,
			sync: false,
		});
	});

	test('refine mode: sends the structured prompt with the new instruction', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: structuredPromptParameters({
				inputMode: 'refine',
				structuredPrompt: { short_description: 'A bowl of ramen', objects: [] },
				prompt: 'add a soft-boiled egg',
			}),
		});
		expect(result.error).toBeUndefined();
		const body = bria.sim.requests('submitStructuredPrompt')[0].body as Record<string, unknown>;
		expect(JSON.parse(String(body.structured_prompt))).toEqual({ short_description: 'A bowl of ramen', objects: [] });
		expect(body.prompt).toBe('add a soft-boiled egg');
		expect(result.items[0].json.structured_prompt).toEqual(expect.objectContaining({ short_description: expect.any(String) }));
	});

	test('chain: structured prompt → image (refine) → image (recreate with the returned seed), no glue', async () => {
		const draft = await runBriaNode({
			credentials: bria.credentials,
			parameters: structuredPromptParameters({ inputMode: 'prompt', prompt: 'A sneaker on concrete' }),
		});
		const refined = await runBriaNode({
			credentials: bria.credentials,
			items: draft.items.map((item) => ({ json: item.json })),
			parameters: imageParameters({
				inputMode: 'refine',
				structuredPrompt: '={{ $json.structured_prompt }}',
				prompt: 'make the sneaker red',
			}),
		});
		expect(refined.error).toBeUndefined();
		const recreated = await runBriaNode({
			credentials: bria.credentials,
			items: refined.items.map((item) => ({ json: item.json })),
			parameters: imageParameters({
				inputMode: 'recreate',
				structuredPrompt: '={{ $json.structured_prompt }}',
				seed: '={{ $json.seed }}',
			}),
		});
		expect(recreated.error).toBeUndefined();
		const [, refineBody, recreateBody] = bria.sim.submits().map((entry) => entry.body as Record<string, unknown>);
		expect(JSON.parse(String(refineBody.structured_prompt))).toEqual(draft.items[0].json.structured_prompt);
		expect(JSON.parse(String(recreateBody.structured_prompt))).toEqual(refined.items[0].json.structured_prompt);
		expect(recreateBody.seed).toBe(refined.items[0].json.seed);
		expect(await binaryBuffer(recreated.items[0])).toEqual(await binaryBuffer(refined.items[0]));
	});
});

describe('Structured Prompt → Generate: its own modes, its own result', () => {
	test('a workflow carrying the image-only mode "recreate" gets a clear error, nothing sent', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: structuredPromptParameters({ inputMode: 'recreate', prompt: 'A mug', structuredPrompt: '{"short_description":"A mug"}', seed: 5 }),
		});
		expect(result.error?.message).toBe('Invalid input: Input Mode: must be one of prompt, refine (got "recreate")');
		expect(bria.sim.log).toHaveLength(0);
	});

	test('a COMPLETED job without a structured_prompt is an error with its request_id', async () => {
		bria.sim.planJobs({ result: { structured_prompt: undefined } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: structuredPromptParameters({ inputMode: 'prompt', prompt: 'A mug' }) });
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.error?.message).toBe(`Bria reported request ${requestId} as completed but sent no structured_prompt`);
		expect(result.error?.context?.requestId).toBe(requestId);
		expect(result.error?.httpCode ?? null).toBeNull();
	});

	test.each(['null', '[]', '"text"', 'not json'])('a COMPLETED job whose structured_prompt is %s (no JSON object) is the same error', async (value) => {
		bria.sim.planJobs({ result: { structured_prompt: value } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: structuredPromptParameters({ inputMode: 'prompt', prompt: 'A mug' }) });
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.error?.message).toBe(`Bria reported request ${requestId} as completed but sent no structured_prompt`);
		expect(result.error?.context?.requestId).toBe(requestId);
	});
});
