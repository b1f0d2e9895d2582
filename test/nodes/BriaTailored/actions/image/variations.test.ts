import { NodeHelpers } from 'n8n-workflow';
import type { INode, INodeParameters, INodeTypeDescription } from 'n8n-workflow';

import { BriaTailored } from '../../../../../nodes/BriaTailored/BriaTailored.node';
import { imageParameters, TOKEN, useSimulator } from '../../../../harness/fixtures';
import type { BriaCredential } from '../../../../harness/runNode';
import { binaryBuffer, runBriaNode, runBriaNodeAsTool } from '../../../../harness/runNode';

/*
 * Image → Generate, Options → Images per Item (issue 15): N Bria jobs per input item, N output items
 * per input item in input order, each paired with its item and carrying its own seed, request_id and
 * binary. Every rule that holds for one job holds for each: the rate budget counts N jobs, a failed
 * job is an error item of its own, Stop and errors name every accepted job.
 */

const bria = useSimulator();

type Body = { prompt?: string; seed?: number; structured_prompt?: string };
const bodies = (): Body[] => bria.sim.submits().map((entry) => entry.body as Body);

const generate = (options: Record<string, unknown>, extra: INodeParameters = {}) =>
	imageParameters({ inputMode: 'prompt', prompt: '={{ $json.p }}', ...extra, options: { downloadImage: false, ...options } });

describe('Images per Item: order, pairing, seeds', () => {
	test('2 items × 3 images: 6 output items, item 0\'s three first, each paired with its item, with its own job, seed and picture', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: { p: 'A teal kettle' } }, { json: { p: 'An orange clock' } }],
			parameters: generate({ imagesPerItem: 3, downloadImage: true }),
		});
		expect(result.error).toBeUndefined();
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 0 }, { item: 0 }, { item: 1 }, { item: 1 }, { item: 1 }]);
		const ids = result.items.map((item) => String(item.json.request_id));
		expect(new Set(ids).size).toBe(6);
		expect(ids.map((id) => (bria.sim.jobs.get(id)?.body as Body).prompt)).toEqual([
			'A teal kettle',
			'A teal kettle',
			'A teal kettle',
			'An orange clock',
			'An orange clock',
			'An orange clock',
		]);
		expect(bria.sim.submits()).toHaveLength(6);
		// Each item's seed is its job's; each binary is its job's picture.
		for (const item of result.items) {
			expect(item.json.seed).toBe(bria.sim.jobs.get(String(item.json.request_id))?.result.seed);
			expect(item.binary?.data.fileName).toBe(`bria-${String(item.json.request_id)}.png`);
		}
		const pictures = await Promise.all(result.items.map(async (item) => (await binaryBuffer(item)).toString('base64')));
		expect(new Set(pictures).size).toBe(6);
	});

	test('a seed: job n is sent seed + n (7 → 7, 8, 9), in output order', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, items: [{ json: { p: 'A teal kettle' } }], parameters: generate({ imagesPerItem: 3, seed: 7 }) });
		expect(bodies().map((body) => body.seed).sort()).toEqual([7, 8, 9]);
		expect(result.items.map((item) => item.json.seed)).toEqual([7, 8, 9]);
	});

	test('no seed: no seed field is sent, Bria picks each job\'s', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, items: [{ json: { p: 'A teal kettle' } }], parameters: generate({ imagesPerItem: 3 }) });
		expect(bodies()).toHaveLength(3);
		for (const body of bodies()) expect(body).not.toHaveProperty('seed');
		expect(result.items.map((item) => typeof item.json.seed)).toEqual(['number', 'number', 'number']);
	});

	test('Recreate: N controlled variations of one scene (one structured prompt, seeds seed, seed + 1, …)', async () => {
		const structuredPrompt = '{"short_description":"A mug on a table"}';
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'recreate', structuredPrompt, seed: 40, options: { imagesPerItem: 2, downloadImage: false } }),
		});
		expect(result.error).toBeUndefined();
		expect(bodies().map((body) => [body.structured_prompt, body.seed]).sort()).toEqual([
			[structuredPrompt, 40],
			[structuredPrompt, 41],
		]);
		expect(result.items.map((item) => item.json.seed)).toEqual([40, 41]);
	});

	test('Images per Item 1 (the default) is one job per item, as before', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, items: [{ json: { p: 'A teal kettle' } }, { json: { p: 'A lamp' } }], parameters: generate({}) });
		expect(result.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		expect(bria.sim.submits()).toHaveLength(2);
	});
});

describe('Images per Item: a failing sibling, Stop, the budget', () => {
	const failSeed8 = () => bria.sim.planWhen((body) => body.seed === 8, { outcome: 'ERROR', error: { code: 500, message: 'Generation failed', details: 'GPU fell over' } });

	test('Continue On Fail: the failed job is an error item of its own, in its place; its siblings are fine', async () => {
		failSeed8();
		const result = await runBriaNode({ credentials: bria.credentials, continueOnFail: true, items: [{ json: { p: 'A teal kettle' } }], parameters: generate({ imagesPerItem: 3, seed: 7 }) });
		const failedId = bodies().length && bria.sim.submits().find((entry) => (entry.body as Body).seed === 8)?.requestId;
		expect(result.items.map((item) => [item.pairedItem, item.json.seed ?? null, item.json.status ?? 'error'])).toEqual([
			[{ item: 0 }, 7, 'COMPLETED'],
			[{ item: 0 }, null, 'error'],
			[{ item: 0 }, 9, 'COMPLETED'],
		]);
		expect(result.items[1].json).toMatchObject({ request_id: failedId, error: expect.stringContaining('Generation failed') });
	});

	test('Continue On Fail with the error output: only the failed job leaves by it', async () => {
		failSeed8();
		const result = await runBriaNode({
			credentials: bria.credentials,
			continueOnFail: true,
			onError: 'continueErrorOutput',
			items: [{ json: { p: 'A teal kettle' } }],
			parameters: generate({ imagesPerItem: 3, seed: 7 }),
		});
		expect(result.items.map((item) => item.json.seed)).toEqual([7, 9]);
		expect(result.errorOutput).toHaveLength(1);
		expect(result.errorOutput[0].pairedItem).toEqual({ item: 0 });
		expect(result.errorOutput[0].json.error).toMatchObject({ message: expect.stringContaining('Generation failed'), request_id: expect.any(String) });
	});

	test('without Continue On Fail: the error names its own job and the other jobs as "item 0 (image n) → <id>"', async () => {
		failSeed8();
		const result = await runBriaNode({ credentials: bria.credentials, items: [{ json: { p: 'A teal kettle' } }], parameters: generate({ imagesPerItem: 3, seed: 7 }) });
		const idOf = (seed: number) => bria.sim.submits().find((entry) => (entry.body as Body).seed === seed)?.requestId;
		expect(result.error?.message).toBe(`Bria could not complete request ${idOf(8)}: Generation failed`);
		expect(result.error?.context?.requestId).toBe(idOf(8));
		expect(result.error?.description).toContain(`item 0 (image 1) → ${idOf(7)}`);
		expect(result.error?.description).toContain(`item 0 (image 3) → ${idOf(9)}`);
		expect(result.error?.description).not.toContain('(image 2)');
	});

	test('Stop mid-run: every accepted job is named, with its image, in n8n\'s log', async () => {
		bria.sim.planJobs({ outcome: 'NEVER' }, { outcome: 'NEVER' }, { outcome: 'NEVER' }, { outcome: 'NEVER' });
		const result = await runBriaNode({
			credentials: bria.credentials,
			items: [{ json: { p: 'A teal kettle' } }, { json: { p: 'A lamp' } }],
			parameters: generate({ imagesPerItem: 2 }),
			cancelAfterMs: 1500,
		});
		expect(result.run.status).toBe('canceled');
		const named = () => result.logs.find((line) => line.includes('the execution was stopped after Bria accepted these jobs')) ?? '';
		for (let waited = 0; !named() && waited < 3000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
		const ids = bria.sim.submits().map((entry) => String(entry.requestId));
		expect(ids).toHaveLength(4);
		for (const label of ['item 0 (image 1)', 'item 0 (image 2)', 'item 1 (image 1)', 'item 1 (image 2)']) {
			const id = bria.sim.submits().find((entry) => named().includes(`${label} → ${String(entry.requestId)}`));
			expect(id).toBeDefined();
		}
	});

	test('the budget counts every job: plan 10, 2 items × 8 images → 10 submits in the first window, none over the plan', async () => {
		bria.sim.options.rateLimitPerMinute = 10;
		try {
			const credentials = { ...bria.credentials, requestsPerMinute: 10 } as BriaCredential;
			// Stopped 3 s in: whatever the other 6 jobs then do, the first window holds 10 submits.
			const result = await runBriaNode({
				credentials,
				items: [{ json: { p: 'A teal kettle' } }, { json: { p: 'A lamp' } }],
				parameters: generate({ imagesPerItem: 8 }),
				cancelAfterMs: 3_000,
			});
			expect(result.run.status).toBe('canceled');
			await new Promise((resolve) => setTimeout(resolve, 500));
			expect(bria.sim.requests('submitImage')).toHaveLength(10);
			expect(bria.sim.log.filter((entry) => entry.status === 429)).toEqual([]);
			// The 10 are both items' jobs in order: item 0's eight, then item 1's first two.
			const prompts = bria.sim.requests('submitImage').map((entry) => (entry.body as Body).prompt);
			expect(prompts.filter((prompt) => prompt === 'A teal kettle')).toHaveLength(8);
			expect(prompts.filter((prompt) => prompt === 'A lamp')).toHaveLength(2);
		} finally {
			bria.sim.options.rateLimitPerMinute = 0;
		}
	}, 20_000);
});

describe('Images per Item: invalid values fail naming the field and send nothing', () => {
	test.each([0, 9, 2.5, 'abc', -1])('%p', async (value) => {
		const result = await runBriaNode({ credentials: bria.credentials, items: [{ json: { p: 'A teal kettle', n: value } }], parameters: generate({ imagesPerItem: '={{ $json.n }}' }) });
		expect(result.error?.message).toMatch(/^Invalid input: Images per Item: must be (1 to 8|a whole number)/);
		expect(result.error?.context?.itemIndex).toBe(0);
		expect(bria.sim.log).toHaveLength(0);
	});

	test('digits in text (a form\'s field) are a number', async () => {
		const result = await runBriaNode({ credentials: bria.credentials, items: [{ json: { p: 'A teal kettle', n: '2' } }], parameters: generate({ imagesPerItem: '={{ $json.n }}' }) });
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(2);
	});
});

describe('Images per Item as an AI agent\'s tool: the model asks, up to 4', () => {
	// The tool variant's parameters as n8n fills them for a new tool node: the model writes the prompt and the number.
	const regular = new BriaTailored().description;
	const tool: INodeTypeDescription = { ...regular, name: `${regular.name}Tool` };
	const toolParameters = (): INodeParameters => {
		const saved = { resource: 'image', operation: 'generate', model: { __rl: true, mode: 'id', value: '101' } };
		const node: INode = { id: '1', name: 'Bria', type: `n8n-nodes-bria.${tool.name}`, typeVersion: 1, position: [0, 0], parameters: saved };
		return NodeHelpers.getNodeParameters(tool.properties, saved, true, false, node, tool) ?? {};
	};

	test('the model asks for 3: 3 compact results (URL, seed, request_id; no binary, no structured prompt)', async () => {
		const [items] = await runBriaNodeAsTool({ credentials: bria.credentials, items: [{ json: { Prompt: 'A teal kettle', Images: 3 } }], parameters: toolParameters() });
		expect(items).toHaveLength(3);
		expect(bria.sim.submits()).toHaveLength(3);
		for (const item of items) {
			expect(Object.keys(item.json).sort()).toEqual(['image_url', 'request_id', 'seed', 'status']);
			expect(item.binary).toBeUndefined();
		}
		expect(bria.sim.requests('image')).toHaveLength(0);
	});

	test('the model asks for 10: it gets 4 (the most per call), not an error', async () => {
		const [items] = await runBriaNodeAsTool({ credentials: bria.credentials, items: [{ json: { Prompt: 'A teal kettle', Images: 10 } }], parameters: toolParameters() });
		expect(items.map((item) => item.json.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
		expect(bria.sim.submits()).toHaveLength(4);
	});

	test('no number from the model: one image', async () => {
		const [items] = await runBriaNodeAsTool({ credentials: bria.credentials, items: [{ json: { Prompt: 'A teal kettle' } }], parameters: toolParameters() });
		expect(items).toHaveLength(1);
		expect(JSON.stringify(items)).not.toContain(TOKEN);
	});

	test('a seed whose last variation would pass the largest whole number is refused before anything is sent', async () => {
		const result = await runBriaNode({
			credentials: bria.credentials,
			parameters: imageParameters({ inputMode: 'prompt', prompt: 'A lamp', options: { seed: Number.MAX_SAFE_INTEGER - 2, imagesPerItem: 4, downloadImage: false } }),
		});
		expect(result.error?.message).toBe(`Invalid input: Seed: with Images per Item 4, must be at most ${Number.MAX_SAFE_INTEGER - 3}`);
		expect(bria.sim.submits()).toHaveLength(0);
	});
});
