/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON probed field by field */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { BriaSimulator, pngDimensions, type SimModel } from './BriaSimulator';
import { optionsFromEnv } from './cli';

const TOKEN = 'sim-token';
let sim: BriaSimulator;

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 80 });
});
afterAll(async () => {
	await sim.stop();
});
beforeEach(() => {
	sim.reset();
	sim.options.jobMs = 80;
	sim.options.rateLimitPerMinute = 0;
	sim.options.retryAfterHeader = true;
});

async function call(
	method: string,
	path: string,
	body?: unknown,
	headers: Record<string, string> = { api_token: TOKEN },
): Promise<{ status: number; headers: Headers; json: any; text: string }> {
	const res = await fetch(`${sim.baseUrl}${path}`, {
		method,
		headers: { 'Content-Type': 'application/json', ...headers },
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
	});
	const text = await res.text();
	let json: any;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: res.status, headers: res.headers, json, text };
}

const submitImage = (body: unknown, headers?: Record<string, string>) =>
	call('POST', '/v2/image/generate/tailored', body, headers);
const submitSp = (body: unknown) => call('POST', '/v2/structured_prompt/generate/tailored', body);
const status = (id: string) => call('GET', `/v2/status/${id}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitDone(id: string): Promise<any> {
	for (let i = 0; i < 100; i++) {
		const r = await status(id);
		if (r.json?.status !== 'IN_PROGRESS') return r.json;
		await sleep(20);
	}
	throw new Error('job never finished');
}

async function download(url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
	const res = await fetch(url);
	return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('auth', () => {
	it('answers 401 with a v2 error body for a missing or wrong api_token', async () => {
		const attempts: Record<string, string>[] = [{}, { api_token: 'nope' }, { Authorization: `Bearer ${TOKEN}` }];
		for (const headers of attempts) {
			const r = await submitImage({ tailored_model_id: '101', prompt: 'a cup' }, headers);
			expect(r.status).toBe(401);
			expect(r.json.error).toEqual({ code: 401, message: 'Unauthorized', details: 'Missing or invalid api_token' });
			expect(typeof r.json.request_id).toBe('string');
		}
		expect((await call('GET', '/v1/tailored-gen/models', undefined, {})).status).toBe(401);
		expect((await call('GET', '/v2/status/x', undefined, {})).status).toBe(401);
		expect(sim.submits()).toHaveLength(0);
	});
});

describe('async flow', () => {
	it('accepts with 202, reports IN_PROGRESS, then COMPLETED with a downloadable PNG', async () => {
		const r = await submitImage({ tailored_model_id: '101', prompt: 'a red teapot on a table', aspect_ratio: '16:9' });
		expect(r.status).toBe(202);
		const id = r.json.request_id as string;
		expect(r.json.status_url).toBe(`${sim.baseUrl}/v2/status/${id}`);
		expect((await status(id)).json).toEqual({ status: 'IN_PROGRESS', request_id: id });

		const done = await waitDone(id);
		expect(done.status).toBe('COMPLETED');
		expect(done.request_id).toBe(id);
		expect(done.result.image_url).toBe(`${sim.imageBaseUrl}/results/${id}.png`);
		expect(Number.isInteger(done.result.seed)).toBe(true);
		const sp = JSON.parse(done.result.structured_prompt);
		expect(sp.short_description).toContain('a red teapot on a table');
		for (const key of ['objects', 'background_setting', 'lighting', 'aesthetics', 'photographic_characteristics', 'style_medium', 'text_render', 'context', 'artistic_style'])
			expect(sp).toHaveProperty(key);

		const img = await download(done.result.image_url);
		expect(img.status).toBe(200);
		expect(img.type).toBe('image/png');
		expect(pngDimensions(img.bytes)).toEqual({ width: 1024, height: 576 });

		// The images host is a different origin and never sees the token.
		const imageHits = sim.requests('image');
		expect(imageHits).toHaveLength(1);
		expect(imageHits[0].host).toBe('images');
		expect(imageHits[0].headers.api_token).toBeUndefined();
		expect(sim.submits()).toHaveLength(1);
		expect(sim.jobs.get(id)?.mode).toBe('generate');
	});

	it('with pictureCache, draws a (structured prompt, seed, size) once and serves repeats from memory, still real PNGs', async () => {
		sim.options.pictureCache = 1;
		try {
			const ids = [];
			for (const seed of [7, 7, 8]) ids.push((await submitImage({ tailored_model_id: '101', prompt: 'a cached mug', seed })).json.request_id as string);
			const images = [];
			for (const id of ids) images.push(await download((await waitDone(id)).result.image_url));
			for (const image of images) expect(pngDimensions(image.bytes)).toEqual({ width: 1024, height: 1024 });
			expect(images[1].bytes.equals(images[0].bytes)).toBe(true);
			expect(images[2].bytes.equals(images[0].bytes)).toBe(false);
			// Bounded: the third picture pushed the first out.
			expect((sim as any).pictures.size).toBe(1);
		} finally {
			sim.options.pictureCache = 0;
		}
	});

	it('recreates the same image from structured_prompt + seed, and refines with a prompt', async () => {
		const first = await waitDone((await submitImage({ tailored_model_id: '101', prompt: 'a blue chair', seed: 7 })).json.request_id);
		expect(first.result.seed).toBe(7);
		const again = await waitDone(
			(await submitImage({ tailored_model_id: '101', structured_prompt: first.result.structured_prompt, seed: 7 })).json.request_id,
		);
		expect(again.result.structured_prompt).toBe(first.result.structured_prompt);
		expect(again.result.seed).toBe(7);
		const [a, b] = await Promise.all([download(first.result.image_url), download(again.result.image_url)]);
		expect(a.bytes.equals(b.bytes)).toBe(true);

		const refined = await waitDone(
			(await submitImage({ tailored_model_id: '101', structured_prompt: first.result.structured_prompt, prompt: 'make it green', seed: 7 })).json.request_id,
		);
		expect(JSON.parse(refined.result.structured_prompt).short_description).toContain('make it green');
		expect(refined.result.structured_prompt).not.toBe(first.result.structured_prompt);
	});

	it('answers sync requests with 200 and the result; structured-prompt jobs have no image_url', async () => {
		const r = await submitImage({ tailored_model_id: '106', prompt: 'a lamp', sync: true });
		expect(r.status).toBe(200);
		expect(r.json.request_id).toEqual(expect.any(String));
		expect(r.json.result).toEqual({ image_url: expect.any(String), seed: expect.any(Number), structured_prompt: expect.any(String) });

		const sp = await submitSp({ tailored_model_id: '101', prompt: 'a lamp', seed: 3 });
		expect(sp.status).toBe(202);
		const done = await waitDone(sp.json.request_id);
		expect(Object.keys(done.result).sort()).toEqual(['seed', 'structured_prompt']);
		expect(done.result.seed).toBe(3);
		// No image exists for a structured-prompt job.
		expect((await download(`${sim.imageBaseUrl}/results/${sp.json.request_id}.png`)).status).toBe(404);
	});

	it('answers 404 NOT_FOUND for an unknown request id and a JSON 404 for unknown paths', async () => {
		const r = await status('does-not-exist');
		expect(r.status).toBe(404);
		expect(r.json).toEqual({ status: 'NOT_FOUND' });
		const p = await call('GET', '/v2/nothing');
		expect(p.status).toBe(404);
		expect(p.json.error.code).toBe(404);
	});
});

describe('validation', () => {
	it.each([
		['no prompt at all', { tailored_model_id: '101' }],
		['structured_prompt without seed or prompt', { tailored_model_id: '101', structured_prompt: '{"a":1}' }],
		['numeric model id', { tailored_model_id: 101, prompt: 'x' }],
		['missing model id', { prompt: 'x' }],
		['structured_prompt not a JSON object', { tailored_model_id: '101', structured_prompt: 'not json{', seed: 1 }],
		['structured_prompt as an object', { tailored_model_id: '101', structured_prompt: { a: 1 }, seed: 1 }],
		['influence out of range', { tailored_model_id: '101', prompt: 'x', tailored_model_influence: 1.6 }],
		['fractional guidance', { tailored_model_id: '101', prompt: 'x', guidance_scale: 4.5 }],
		['steps out of range', { tailored_model_id: '101', prompt: 'x', steps_num: 10 }],
		['bad aspect ratio', { tailored_model_id: '101', prompt: 'x', aspect_ratio: '7:3' }],
		['string seed', { tailored_model_id: '101', prompt: 'x', seed: '42' }],
		['unknown field', { tailored_model_id: '101', prompt: 'x', foo: 1 }],
		['legacy model', { tailored_model_id: '103', prompt: 'x' }],
		['model still training', { tailored_model_id: '104', prompt: 'x' }],
	])('image endpoint rejects %s with 400', async (_name, body) => {
		const r = await submitImage(body);
		expect(r.status).toBe(400);
		expect(r.json.error.code).toBe(400);
		expect(typeof r.json.error.details).toBe('string');
	});

	it('says a numeric tailored_model_id must be a string', async () => {
		expect((await submitImage({ tailored_model_id: 101, prompt: 'x' })).json.error.details).toMatch(/must be a string/);
	});

	it('rejects malformed JSON with 400', async () => {
		expect((await submitImage('{"tailored_model_id":')).status).toBe(400);
	});

	it.each(['negative_prompt', 'aspect_ratio', 'guidance_scale', 'steps_num', 'tailored_model_influence', 'visual_output_content_moderation'])(
		'structured-prompt endpoint rejects image-only field %s',
		async (field) => {
			const values: Record<string, unknown> = {
				negative_prompt: 'blur',
				aspect_ratio: '1:1',
				guidance_scale: 5,
				steps_num: 50,
				tailored_model_influence: 1,
				visual_output_content_moderation: true,
			};
			const r = await submitSp({ tailored_model_id: '101', prompt: 'x', [field]: values[field] });
			expect(r.status).toBe(400);
			expect(r.json.error.details).toContain(field);
		},
	);

	it('structured-prompt endpoint needs a prompt', async () => {
		expect((await submitSp({ tailored_model_id: '101', structured_prompt: '{"a":1}', seed: 1 })).status).toBe(400);
		expect((await submitSp({ tailored_model_id: '101', structured_prompt: '{"a":1}', prompt: 'more light' })).status).toBe(202);
	});

	it('answers 403 for a model outside the organization', async () => {
		const r = await submitImage({ tailored_model_id: '999', prompt: 'x' });
		expect(r.status).toBe(403);
		expect(r.json.error.details).toMatch(/Model not found in organization/);
	});

	it('answers 422 on content moderation unless disabled', async () => {
		const r = await submitImage({ tailored_model_id: '101', prompt: 'A FORBIDDEN thing' });
		expect(r.status).toBe(422);
		expect(r.json.error.message).toBe('Content moderation failure');
		expect((await submitImage({ tailored_model_id: '101', prompt: 'A forbidden thing', prompt_content_moderation: false })).status).toBe(202);
	});
});

describe('plans', () => {
	it('reports ERROR and UNKNOWN jobs with HTTP 200 and an error object', async () => {
		sim.planJobs(
			{ outcome: 'ERROR', durationMs: 10, error: { code: 500, message: 'boom', details: 'gpu fell over' } },
			{ outcome: 'UNKNOWN', durationMs: 10 },
		);
		const a = await submitImage({ tailored_model_id: '101', prompt: 'x' });
		const b = await submitImage({ tailored_model_id: '101', prompt: 'y' });
		const doneA = await waitDone(a.json.request_id);
		expect(doneA).toEqual({ status: 'ERROR', request_id: a.json.request_id, error: { code: 500, message: 'boom', details: 'gpu fell over' } });
		const doneB = await waitDone(b.json.request_id);
		expect(doneB.status).toBe('UNKNOWN');
		expect(doneB.error.code).toEqual(expect.any(Number));
	});

	it('merges result overrides and deletes undefined keys', async () => {
		sim.planJobs({ durationMs: 0, result: { image_url: undefined, seed: '42' } });
		const r = await submitImage({ tailored_model_id: '101', prompt: 'x' });
		const done = await waitDone(r.json.request_id);
		expect(done.result.image_url).toBeUndefined();
		expect(done.result.seed).toBe('42');
	});

	it('keeps NEVER jobs IN_PROGRESS', async () => {
		sim.planJobs({ outcome: 'NEVER', durationMs: 0 });
		const r = await submitImage({ tailored_model_id: '101', prompt: 'x' });
		await sleep(20);
		expect((await status(r.json.request_id)).json.status).toBe('IN_PROGRESS');
	});

	it('applies a job imageFault to downloads of its image', async () => {
		sim.planJobs({ durationMs: 0, imageFault: { kind: 'respond', status: 403, body: 'expired' } });
		const done = await waitDone((await submitImage({ tailored_model_id: '101', prompt: 'x' })).json.request_id);
		const img = await download(done.result.image_url);
		expect(img.status).toBe(403);
		expect(img.bytes.toString()).toBe('expired');
	});
});

describe('faults', () => {
	it('respond: sends the given status, JSON or raw text, then normal handling resumes', async () => {
		sim.inject('status', { kind: 'respond', status: 503, body: 'Service Unavailable' });
		sim.inject('status', { kind: 'respond', status: 502, body: { oops: true }, headers: { 'Retry-After': '1' } });
		const r1 = await status('anything');
		expect(r1.status).toBe(503);
		expect(r1.text).toBe('Service Unavailable');
		const r2 = await status('anything');
		expect(r2.status).toBe(502);
		expect(r2.json).toEqual({ oops: true });
		expect(r2.headers.get('retry-after')).toBe('1');
		expect((await status('anything')).status).toBe(404);
		expect(sim.requests('status').map((e) => e.status)).toEqual([503, 502, 404]);
	});

	it('reset: the request fails at the network level and is logged with status 0', async () => {
		sim.inject('submitImage', { kind: 'reset' });
		await expect(submitImage({ tailored_model_id: '101', prompt: 'x' })).rejects.toThrow();
		expect(sim.requests('submitImage')[0].status).toBe(0);
		expect(sim.submits()).toHaveLength(0);
		expect((await submitImage({ tailored_model_id: '101', prompt: 'x' })).status).toBe(202);
	});

	it('delay: answers normally after the delay', async () => {
		sim.inject('models', { kind: 'delay', ms: 150 });
		const started = Date.now();
		const r = await call('GET', '/v1/tailored-gen/models');
		expect(Date.now() - started).toBeGreaterThanOrEqual(140);
		expect(r.status).toBe(200);
	});

	it('hang: stop() still finishes promptly', async () => {
		const other = await BriaSimulator.start();
		other.inject('models', { kind: 'hang' }, Infinity);
		const pending = fetch(`${other.baseUrl}/v1/tailored-gen/models`, { headers: { api_token: 'test-token' } }).catch((e: unknown) => e);
		await sleep(50);
		expect(other.requests('models')[0].status).toBe(0);
		const started = Date.now();
		await other.stop();
		expect(Date.now() - started).toBeLessThan(500);
		// fetch rejects (a TypeError from another realm under jest, so no instanceof check).
		expect(String(await pending)).toMatch(/fetch failed/);
	});
});

describe('rate limit', () => {
	it('answers 429 with Retry-After once an endpoint is over its limit, counting endpoints separately', async () => {
		sim.options.rateLimitPerMinute = 2;
		expect((await status('a')).status).toBe(404);
		expect((await status('b')).status).toBe(404);
		const limited = await status('c');
		expect(limited.status).toBe(429);
		expect(limited.json.error.code).toBe(429);
		const retryAfter = Number(limited.headers.get('retry-after'));
		expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
		// Other endpoints have their own window.
		expect((await call('GET', '/v1/tailored-gen/models')).status).toBe(200);

		sim.options.retryAfterHeader = false;
		expect((await status('d')).headers.get('retry-after')).toBeNull();
	});
});

describe('models', () => {
	it('lists models as a plain array with integer ids', async () => {
		const r = await call('GET', '/v1/tailored-gen/models');
		expect(r.status).toBe(200);
		const models = r.json as SimModel[];
		expect(Array.isArray(models)).toBe(true);
		expect(models.every((m) => Number.isInteger(m.id))).toBe(true);
		expect(models.some((m) => m.status === 'Completed' && m.training_version === 'fibo')).toBe(true);
		expect(models.some((m) => m.training_version === 'bria-2.3')).toBe(true);
		expect(models.some((m) => m.status === 'Completed' && m.training_version === undefined)).toBe(true);
	});

	it('serves one model by ID with the same fields as the list, and 404 with an error body for an ID the organization does not have', async () => {
		const list = (await call('GET', '/v1/tailored-gen/models')).json as SimModel[];
		for (const model of list) {
			const r = await call('GET', `/v1/tailored-gen/models/${model.id}`);
			expect(r.status).toBe(200);
			expect(r.json).toEqual(model);
		}
		const missing = await call('GET', '/v1/tailored-gen/models/999');
		expect(missing.status).toBe(404);
		expect(missing.json.error).toEqual({ code: 404, message: 'Not Found', details: 'Model not found in organization: 999' });
		expect(sim.requests('model').map((entry) => entry.status)).toEqual([...list.map(() => 200), 404]);
		expect((await call('GET', '/v1/tailored-gen/models/101', undefined, {})).status).toBe(401);
	});

	it('counts one model and the list on the same rate limit (Bria\'s model-list limit), apart from other endpoints', async () => {
		sim.options.rateLimitPerMinute = 2;
		expect((await call('GET', '/v1/tailored-gen/models')).status).toBe(200);
		expect((await call('GET', '/v1/tailored-gen/models/101')).status).toBe(200);
		const limited = await call('GET', '/v1/tailored-gen/models/102');
		expect(limited.status).toBe(429);
		expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect((await call('GET', '/v1/tailored-gen/models')).status).toBe(429);
		expect((await status('x')).status).toBe(404);
	});
});

describe('helpers', () => {
	it('pngDimensions rejects non-PNG data', () => {
		expect(pngDimensions(Buffer.from('not a png at all, just some text'))).toBeUndefined();
	});

	it('reads CLI options from the environment', () => {
		expect(optionsFromEnv({ BRIA_SIM_PORT: '0', BRIA_SIM_TOKEN: 'abc', BRIA_SIM_JOB_MS: '50', BRIA_SIM_RATE_LIMIT: '10' })).toMatchObject({
			port: 0,
			token: 'abc',
			jobMs: 50,
			rateLimitPerMinute: 10,
		});
	});
});
