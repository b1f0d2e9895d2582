import { pngDimensions } from '../../../../simulator/BriaSimulator';
import { imageParameters, TOKEN, useSimulator, visibleText } from '../../../../harness/fixtures';
import { binaryBuffer, runBriaNode, runBriaNodeAsTool } from '../../../../harness/runNode';

const bria = useSimulator();

const submitted = () => bria.sim.requests('submitImage').map((entry) => entry.body as Record<string, unknown>);

describe('Image → Generate', () => {
	test('prompt mode: submits only the prompt, waits, and outputs the result with the downloaded image', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A ceramic mug on a sunlit table' }),
		});

		expect(result.error).toBeUndefined();
		expect(submitted()).toEqual([{ tailored_model_id: '101', prompt: 'A ceramic mug on a sunlit table', sync: false }]);
		expect(result.items).toHaveLength(1);
		const [item] = result.items;
		expect(item.pairedItem).toEqual({ item: 0 });
		expect(item.json).toEqual({
			request_id: expect.any(String),
			status: 'COMPLETED',
			image_url: expect.stringMatching(new RegExp(`^${bria.sim.imageBaseUrl}/results/`)),
			seed: expect.any(Number),
			structured_prompt: expect.objectContaining({ short_description: expect.stringContaining('ceramic mug') }),
		});
		// The status was polled at the base URL, never at a URL taken from a response.
		const statusCalls = bria.sim.requests('status');
		expect(statusCalls.length).toBeGreaterThanOrEqual(1);
		expect(statusCalls.every((entry) => entry.path === `/v2/status/${String(item.json.request_id)}`)).toBe(true);

		const binary = item.binary?.data;
		expect(binary).toMatchObject({ mimeType: 'image/png', fileExtension: 'png', fileName: `bria-${String(item.json.request_id)}.png` });
		const bytes = await binaryBuffer(item);
		expect(pngDimensions(bytes)).toEqual({ width: 1024, height: 1024 });
	});

	test('the token goes to the API host only: not to the image host, not into output or logs', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A red bicycle' }),
		});
		const api = bria.sim.log.filter((entry) => entry.host === 'api');
		const images = bria.sim.log.filter((entry) => entry.host === 'images');
		expect(api.length).toBeGreaterThanOrEqual(2);
		expect(api.every((entry) => entry.headers.api_token === TOKEN)).toBe(true);
		expect(images).toHaveLength(1);
		expect(JSON.stringify(images[0].headers)).not.toContain(TOKEN);
		expect(visibleText(result)).not.toContain(TOKEN);
		expect(api[0].headers['user-agent']).toMatch(/^n8n-nodes-bria\//);
	});

	test('every option is sent under Bria\'s field name, and nothing unset is sent', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({
				inputMode: 'prompt',
				prompt: 'A poster',
				options: {
					negativePrompt: 'text, watermark',
					aspectRatio: '16:9',
					guidanceScale: 4,
					stepsNum: 30,
					modelInfluence: 0.8,
					seed: 1234,
					promptContentModeration: false,
					visualOutputContentModeration: false,
					downloadImage: false,
				},
			}),
		});
		expect(result.error).toBeUndefined();
		expect(submitted()).toEqual([
			{
				tailored_model_id: '101',
				prompt: 'A poster',
				negative_prompt: 'text, watermark',
				aspect_ratio: '16:9',
				guidance_scale: 4,
				steps_num: 30,
				tailored_model_influence: 0.8,
				seed: 1234,
				prompt_content_moderation: false,
				visual_output_content_moderation: false,
				sync: false,
			},
		]);
		expect(result.items[0].json.seed).toBe(1234);
		// Download off: no binary and no request to the image host.
		expect(result.items[0].binary).toBeUndefined();
		expect(bria.sim.requests('image')).toHaveLength(0);
	});

	test('recreate mode: structured prompt (object from an expression) and seed reproduce the same image', async () => {
		const first = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A lighthouse at dusk', options: { binaryPropertyName: 'image' } }),
		});
		const original = first.items[0];
		expect(original.binary?.image).toBeDefined();
		bria.sim.reset();

		const recreated = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: original.json }],
			parameters: imageParameters({
				inputMode: 'recreate',
				structuredPrompt: '={{ $json.structured_prompt }}',
				seed: '={{ $json.seed }}',
			}),
		});
		expect(recreated.error).toBeUndefined();
		const [body] = submitted();
		expect(Object.keys(body).sort()).toEqual(['seed', 'structured_prompt', 'sync', 'tailored_model_id']);
		expect(JSON.parse(String(body.structured_prompt))).toEqual(original.json.structured_prompt);
		expect(body.seed).toBe(original.json.seed);
		expect(recreated.items[0].json.seed).toBe(original.json.seed);
		expect(await binaryBuffer(recreated.items[0])).toEqual(await binaryBuffer(original, 'image'));
	});

	test('refine mode: structured prompt as JSON text plus a new instruction', async () => {
		const structuredPrompt = JSON.stringify({ short_description: 'A blue vase', objects: [], text_render: [] });
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({
				inputMode: 'refine',
				structuredPrompt,
				prompt: 'make it green',
				options: { seed: 7 },
			}),
		});
		expect(result.error).toBeUndefined();
		expect(submitted()).toEqual([
			{ tailored_model_id: '101', structured_prompt: structuredPrompt, prompt: 'make it green', seed: 7, sync: false },
		]);
		expect(result.items[0].json).toMatchObject({ status: 'COMPLETED', seed: 7, structured_prompt: expect.any(Object) });
	});

	test('fields hidden by the input mode are never sent, even when a value is stored for them', async () => {
		await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({
				inputMode: 'prompt',
				prompt: 'A cat',
				structuredPrompt: '{"short_description":"stale"}',
				seed: 99,
			}),
		});
		expect(submitted()).toEqual([{ tailored_model_id: '101', prompt: 'A cat', sync: false }]);
	});

	test('the model picked from the list is sent as a string ID', async () => {
		await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ model: { __rl: true, mode: 'list', value: '102' }, inputMode: 'prompt', prompt: 'A hat' }),
		});
		expect(submitted()[0].tailored_model_id).toBe('102');
	});

	test('without waiting: one submit, and the request to resume later', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A kite', waitForCompletion: false }),
		});
		expect(result.items[0].json).toEqual({
			request_id: expect.any(String),
			status: 'IN_PROGRESS',
			status_url: `${bria.sim.baseUrl}/v2/status/${String(result.items[0].json.request_id)}`,
		});
		expect(bria.sim.log.map((entry) => entry.route)).toEqual(['submitImage']);
	});

	test('several items: one job each, outputs in input order with their pairing', async () => {
		const prompts = ['A red apple', 'A green pear', 'A yellow banana'];
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: prompts.map((topic) => ({ json: { topic } })),
			parameters: imageParameters({ inputMode: 'prompt', prompt: '={{ $json.topic }}', options: { downloadImage: false } }),
		});
		expect(bria.sim.submits()).toHaveLength(3);
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		result.items.forEach((item, index) => {
			const job = bria.sim.jobs.get(String(item.json.request_id));
			expect((job?.body as Record<string, unknown>).prompt).toBe(prompts[index]);
		});
	});
});

describe('Image → Generate as an AI-agent tool', () => {
	test('returns compact JSON with the image URL and downloads nothing (agents drop binary data)', async () => {
		const [[item]] = await runBriaNodeAsTool({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A product shot of a watch' }),
		});
		expect(item.json).toMatchObject({ status: 'COMPLETED', image_url: expect.stringContaining('/results/') });
		expect(item.binary).toBeUndefined();
		expect(bria.sim.requests('image')).toHaveLength(0);
	});
});
