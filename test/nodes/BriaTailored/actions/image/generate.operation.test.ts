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

describe('Image → Generate: Recreate needs the seed of the image to recreate', () => {
	const recreate = (extra: Record<string, unknown>) =>
		imageParameters({ inputMode: 'recreate', structuredPrompt: '{"short_description":"A mug"}', options: { downloadImage: false }, ...extra });

	test('a saved workflow without the seed parameter: an error naming Seed, nothing sent', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, parameters: recreate({}) });
		expect(result.error?.message).toMatch(/^Invalid input: Seed: is required/);
		expect(result.error?.context?.itemIndex).toBe(0);
		expect(bria.sim.log).toHaveLength(0);
	});

	test('an unmapped expression (no seed in the item): an error naming Seed, nothing sent', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, items: [{ json: {} }], parameters: recreate({ seed: '={{ $json.seed }}' }) });
		expect(result.error?.message).toMatch(/^Invalid input: Seed: is required/);
		expect(bria.sim.log).toHaveLength(0);
	});

	test('a mapped seed works as a number or as digits in text; a typed seed too', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: { seed: 1234 } }, { json: { seed: '5678' } }, { json: { seed: 0 } }],
			parameters: recreate({ seed: '={{ $json.seed }}' }),
		});
		expect(result.error).toBeUndefined();
		expect(submitted().map((body) => body.seed).sort()).toEqual([0, 1234, 5678]);
		bria.sim.reset();
		const typed = await runBriaNode({ credentials: bria.credentials, parameters: recreate({ seed: 42 }) });
		expect(typed.error).toBeUndefined();
		expect(submitted()[0].seed).toBe(42);
	});
});

describe('Image → Generate: values in the forms real payloads carry', () => {
	test('a model ID that is a number (Bria\'s model list gives integers)', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: { model_id: 102 } }],
			parameters: imageParameters({ model: { __rl: true, mode: 'id', value: '={{ $json.model_id }}' }, inputMode: 'prompt', prompt: 'A mug', options: { downloadImage: false } }),
		});
		expect(result.error).toBeUndefined();
		expect(submitted()[0].tailored_model_id).toBe('102');
	});

	test('booleans as the text "true"/"false" (webhook query and body values)', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: { moderate: 'false', wait: 'true', download: 'false' } }],
			parameters: imageParameters({
				inputMode: 'prompt',
				prompt: 'A mug',
				waitForCompletion: '={{ $json.wait }}',
				options: { promptContentModeration: '={{ $json.moderate }}', visualOutputContentModeration: '={{ "TRUE" }}', downloadImage: '={{ $json.download }}' },
			}),
		});
		expect(result.error).toBeUndefined();
		expect(submitted()[0]).toMatchObject({ prompt_content_moderation: false, visual_output_content_moderation: true });
		expect(result.items[0].json.status).toBe('COMPLETED');
		expect(result.items[0].binary).toBeUndefined();
	});

	test('a structured prompt given as an object has the same size limit as text', async () => {
		const huge = { short_description: 'x'.repeat(100_001) };
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: { sp: huge } }],
			parameters: imageParameters({ inputMode: 'refine', prompt: 'Brighter', structuredPrompt: '={{ $json.sp }}' }),
		});
		expect(result.error?.message).toBe('Invalid input: Structured Prompt: must be at most 100000 characters');
		expect(bria.sim.log).toHaveLength(0);
	});

	test('an input mode the operation does not have is an error, not a silent run in another mode', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'remix', prompt: 'A mug', structuredPrompt: '{"short_description":"A mug"}' }),
		});
		expect(result.error?.message).toBe('Invalid input: Input Mode: must be one of prompt, recreate, refine (got "remix")');
		expect(bria.sim.log).toHaveLength(0);
	});
});

describe('Image → Generate: result images', () => {
	test.each([
		['application/octet-stream', 'png'],
		['binary/octet-stream', 'png'],
	])('an image served as %s is accepted by its bytes (PNG) with the right type and extension', async (contentType) => {
		bria.sim.options.imageMimeType = contentType;
		try {
			const result = await runBriaNode({ credentials: bria.credentials, parameters: imageParameters({ inputMode: 'prompt', prompt: 'A mug' }) });
			expect(result.error).toBeUndefined();
			const requestId = String(result.items[0].json.request_id);
			expect(result.items[0].binary?.data).toMatchObject({ mimeType: 'image/png', fileExtension: 'png', fileName: `bria-${requestId}.png` });
			expect(pngDimensions(await binaryBuffer(result.items[0]))).toEqual({ width: 1024, height: 1024 });
		} finally {
			bria.sim.options.imageMimeType = 'image/png';
		}
	});

	test.each([
		['JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 2, 3]), 'image/jpeg', 'jpg'],
		['WebP', Buffer.concat([Buffer.from('RIFF'), Buffer.from([8, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(8)]), 'image/webp', 'webp'],
	])('octet-stream %s bytes are accepted with their type and extension', async (_kind, bytes, mimeType, extension) => {
		bria.sim.planJobs({ imageFault: { kind: 'respond', status: 200, body: bytes, headers: { 'Content-Type': 'application/octet-stream' } } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: imageParameters({ inputMode: 'prompt', prompt: 'A mug' }) });
		expect(result.error).toBeUndefined();
		expect(result.items[0].binary?.data).toMatchObject({ mimeType, fileExtension: extension });
		expect((await binaryBuffer(result.items[0])).equals(bytes)).toBe(true);
	});

	test.each([
		['image/png', '<html><body>Service notice</body></html>'],
		['image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>'],
	])('a file served as %s whose bytes are not PNG, JPEG or WebP: an error keeping request_id and image_url', async (contentType, body) => {
		bria.sim.planJobs({ imageFault: { kind: 'respond', status: 200, body, headers: { 'Content-Type': contentType } } });
		const result = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, parameters: imageParameters({ inputMode: 'prompt', prompt: 'A mug' }) });
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.items[0].binary).toBeUndefined();
		expect(result.items[0].json).toMatchObject({
			error: `Could not download the result image: expected an image but got "${contentType}" whose bytes are not PNG, JPEG or WebP`,
			request_id: requestId,
			image_url: `${bria.sim.imageBaseUrl}/results/${requestId}.png`,
		});
	});

	test('JPEG bytes served as image/png are stored as what they are', async () => {
		const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 2, 3]);
		bria.sim.planJobs({ imageFault: { kind: 'respond', status: 200, body: jpeg, headers: { 'Content-Type': 'image/png' } } });
		const result = await runBriaNode({ credentials: bria.credentials, parameters: imageParameters({ inputMode: 'prompt', prompt: 'A mug' }) });
		expect(result.error).toBeUndefined();
		expect(result.items[0].binary?.data).toMatchObject({ mimeType: 'image/jpeg', fileExtension: 'jpg' });
	});

	test('octet-stream bytes that are no image: an error keeping request_id and image_url', async () => {
		bria.sim.planJobs({ imageFault: { kind: 'respond', status: 200, body: 'PK\u0003\u0004 not an image', headers: { 'Content-Type': 'application/octet-stream' } } });
		const result = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, parameters: imageParameters({ inputMode: 'prompt', prompt: 'A mug' }) });
		const requestId = [...bria.sim.jobs.keys()][0];
		expect(result.items[0].json).toMatchObject({
			error: 'Could not download the result image: expected an image but got "application/octet-stream" whose bytes are not PNG, JPEG or WebP',
			request_id: requestId,
			image_url: `${bria.sim.imageBaseUrl}/results/${requestId}.png`,
		});
	});
});
