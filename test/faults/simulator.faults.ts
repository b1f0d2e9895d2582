import { BriaSimulator, faults, pngDimensions } from '../simulator/BriaSimulator';

/* The simulator's added fault kinds behave as the matrix relies on (checked with plain fetch). */
const TOKEN = 'sim-faults-token';
let sim: BriaSimulator;

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 0 });
});
afterAll(async () => {
	await sim.stop();
});
beforeEach(() => sim.reset());

const submit = () =>
	fetch(`${sim.baseUrl}/v2/image/generate/tailored`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', api_token: TOKEN },
		body: JSON.stringify({ tailored_model_id: '101', prompt: 'a mug' }),
	});
const status = (id: string) => fetch(`${sim.baseUrl}/v2/status/${id}`, { headers: { api_token: TOKEN } });

describe('simulator fault kinds', () => {
	test('malformedJson, emptyBody, acceptedWithoutRequestId, wrongContentType answer as named', async () => {
		sim.inject('submitImage', faults.malformedJson(202));
		sim.inject('submitImage', faults.emptyBody(202));
		sim.inject('submitImage', faults.acceptedWithoutRequestId());
		sim.inject('submitImage', faults.wrongContentType());
		const malformed = await submit();
		expect(malformed.status).toBe(202);
		expect(malformed.headers.get('content-type')).toBe('application/json');
		await expect(malformed.json()).rejects.toThrow();
		const empty = await submit();
		expect([empty.status, await empty.text()]).toEqual([202, '']);
		expect(await (await submit()).json()).toEqual({ status: 'IN_PROGRESS' });
		const html = await submit();
		expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
		expect(sim.requests('submitImage').map((entry) => entry.fault)).toEqual(['respond', 'respond', 'respond', 'respond']);
		expect(sim.jobs.size).toBe(0);
	});

	test('pass lets one request through so faults can alternate with normal answers', async () => {
		const id = (await (await submit()).json()).request_id as string;
		sim.inject('status', { kind: 'respond', status: 503 });
		sim.inject('status', faults.pass());
		sim.inject('status', { kind: 'respond', status: 502 });
		const codes = [];
		for (let i = 0; i < 4; i++) codes.push((await status(id)).status);
		expect(codes).toEqual([503, 200, 502, 200]);
		expect(sim.requests('status').map((entry) => entry.fault)).toEqual(['respond', 'pass', 'respond', undefined]);
	});

	test('slowBody delivers the normal answer, complete, spread over the given time', async () => {
		const id = (await (await submit()).json()).request_id as string;
		sim.inject('image', faults.slowBody(600, 6));
		const started = Date.now();
		const res = await fetch(`${sim.imageBaseUrl}/results/${id}.png`);
		const headersAt = Date.now();
		const bytes = Buffer.from(await res.arrayBuffer());
		// Headers first, then the body over the given time (drawing the picture comes before both).
		expect(Date.now() - headersAt).toBeGreaterThanOrEqual(450);
		expect(Date.now() - started).toBeGreaterThanOrEqual(550);
		expect(pngDimensions(bytes)).toEqual({ width: 1024, height: 1024 });
	});

	test('truncate sends the headers and half the body, then drops the connection', async () => {
		const id = (await (await submit()).json()).request_id as string;
		sim.inject('image', faults.truncate());
		const res = await fetch(`${sim.imageBaseUrl}/results/${id}.png`);
		expect(res.status).toBe(200);
		await expect(res.arrayBuffer()).rejects.toThrow();
	});

	test('redirect answers 302 with a Location', async () => {
		sim.inject('status', faults.redirect('http://127.0.0.1:9/elsewhere'));
		const res = await fetch(`${sim.baseUrl}/v2/status/x`, { headers: { api_token: TOKEN }, redirect: 'manual' });
		expect([res.status, res.headers.get('location')]).toEqual([302, 'http://127.0.0.1:9/elsewhere']);
	});
});
