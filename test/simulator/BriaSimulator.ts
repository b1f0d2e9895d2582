/**
 * A Bria-compatible HTTP simulator for tests (see /work/shared/bria-api.md for the facts it follows).
 *
 * Two servers on 127.0.0.1: the API host (generation, status, models; needs `api_token`) and a
 * separate images host serving result PNGs, so tests can prove the token never leaves the API host.
 * Built on `node:http` only, so it runs anywhere the tests run.
 */
/* eslint-disable @n8n/community-nodes/require-node-api-error -- test infrastructure, not node code: there is no node to attach errors to */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { deflateSync } from 'node:zlib';

import { pictureSize, renderPicture } from './picture';

export interface SimModel {
	id: number;
	name: string;
	description?: string;
	status: string;
	training_mode?: string;
	training_version?: string;
	project_id?: number;
	dataset_id?: number;
	created_at?: string;
}

/** `models` is the model list, `model` one model: both count on the model list's rate limit, like Bria. */
export type Route = 'submitImage' | 'submitStructuredPrompt' | 'status' | 'models' | 'model' | 'image';

export interface LogEntry {
	host: 'api' | 'images';
	method: string;
	path: string;
	headers: Record<string, string | string[] | undefined>;
	/** Parsed JSON, or the raw text when it is not JSON; undefined for an empty body. */
	body: unknown;
	/** Status as actually sent; 0 while unanswered and for reset/hang faults. */
	status: number;
	/** Date.now() when the request arrived. */
	at: number;
	requestId?: string;
	/** Which route matched, if any (what `requests(route)` filters on). */
	route?: Route;
	/** The injected fault that shaped this answer, if any. */
	fault?: Fault['kind'];
	/** For status calls answered from a job: the job state reported (IN_PROGRESS, COMPLETED, …). */
	jobStatus?: string;
}

export type Fault =
	| { kind: 'respond'; status: number; body?: unknown; headers?: Record<string, string> }
	| { kind: 'reset' }
	| { kind: 'hang' }
	| { kind: 'delay'; ms: number }
	/** Answers normally: lets one request through so queued faults can alternate with normal answers. */
	| { kind: 'pass' }
	/** Answers normally, but the body trickles in over `ms` (headers first, then `chunks` pieces). */
	| { kind: 'slowBody'; ms: number; chunks?: number }
	/** Answers normally, but the connection drops halfway through the body. */
	| { kind: 'truncate' }
	/**
	 * A submit answered the synchronous way (200 with the result once the job is done), though the
	 * node asked for a 202: the job is created and billed as any other.
	 */
	| { kind: 'sync' };

/** Ready-made faults for the shapes real servers and proxies get wrong. */
export const faults = {
	/** A JSON content type with a body cut off mid-object. */
	malformedJson: (status = 200): Fault => ({
		kind: 'respond',
		status,
		body: '{"status": "COMPLETED", "request_id": "abc", "result": {',
		headers: { 'Content-Type': 'application/json' },
	}),
	/** A status line and headers, and no body at all. */
	emptyBody: (status = 200, contentType = 'application/json'): Fault => ({
		kind: 'respond',
		status,
		headers: { 'Content-Type': contentType },
	}),
	/** A 200 whose body is not what the route serves, e.g. a proxy's HTML page in place of an image. */
	wrongContentType: (contentType = 'text/html; charset=utf-8', body = '<html><body>Service notice</body></html>'): Fault => ({
		kind: 'respond',
		status: 200,
		body,
		headers: { 'Content-Type': contentType },
	}),
	/** A 202 that says the job was accepted but gives nothing to follow it by. */
	acceptedWithoutRequestId: (): Fault => ({ kind: 'respond', status: 202, body: { status: 'IN_PROGRESS' } }),
	/** A redirect to another host (e.g. a misconfigured proxy): a client that follows it carries its headers along. */
	redirect: (location: string, status = 302): Fault => ({ kind: 'respond', status, headers: { Location: location } }),
	slowBody: (ms: number, chunks = 10): Fault => ({ kind: 'slowBody', ms, chunks }),
	truncate: (): Fault => ({ kind: 'truncate' }),
	pass: (): Fault => ({ kind: 'pass' }),
};

export interface JobPlan {
	durationMs?: number;
	outcome?: 'COMPLETED' | 'ERROR' | 'UNKNOWN' | 'NEVER';
	error?: { code: number; message: string; details?: string };
	/** Merged over the normal result; a key whose value is undefined is deleted from it. */
	result?: Record<string, unknown>;
	/** Applied when this job's result image is downloaded. */
	imageFault?: Fault;
	/** How many downloads imageFault applies to (default Infinity: an expired URL stays expired). */
	imageFaultTimes?: number;
	/** The job's request_id (default a new UUID): lets a test name a job before it exists. */
	requestId?: string;
}

export interface SimOptions {
	token?: string;
	jobMs?: number;
	jitterMs?: number;
	rateLimitPerMinute?: number;
	/** Length of the rate-limit window; 60 000 like Bria, shorter only to keep tests fast. */
	rateWindowMs?: number;
	retryAfterHeader?: boolean;
	models?: SimModel[];
	imageMimeType?: string;
	/**
	 * Minimum size of each result PNG in bytes (default 0: the picture as drawn, 1024 px on the long
	 * side and ~1.1-2 MB like real results). Smaller pictures are padded with a private ancillary
	 * chunk of pseudo-random (incompressible) bytes, which image readers skip: for benches that
	 * want every download to weigh a fixed amount.
	 */
	imageBytes?: number;
	/**
	 * Keeps up to this many rendered result PNGs, keyed by (structured prompt, seed, size), and
	 * serves a repeat from memory (default 0: every download is drawn anew). Drawing a 1024 px
	 * picture costs about a quarter of a second of CPU: a bench that downloads a thousand results
	 * asks for a few distinct (prompt, seed) pairs, so the simulator is not its bottleneck, and
	 * every download is still a real PNG of a real result's weight.
	 */
	pictureCache?: number;
	/** Fixed ports (default 0 = random), used by the CLI. */
	port?: number;
	imagePort?: number;
}

export interface SimSettings {
	token: string;
	jobMs: number;
	jitterMs: number;
	rateLimitPerMinute: number;
	rateWindowMs: number;
	retryAfterHeader: boolean;
	models: SimModel[];
	imageMimeType: string;
	imageBytes?: number;
	pictureCache: number;
}

export interface SimJob {
	id: string;
	kind: 'image' | 'structured_prompt';
	mode: 'generate' | 'recreate' | 'refine';
	body: Record<string, unknown>;
	plan: JobPlan;
	createdAt: number;
	durationMs: number;
	outcome: 'COMPLETED' | 'ERROR' | 'UNKNOWN' | 'NEVER';
	sync: boolean;
	/** The completed result, plan overrides applied. */
	result: Record<string, unknown>;
	error?: { code: number; message: string; details: string };
	/** What the result picture is drawn from (see picture.ts): recreate gives identical bytes. */
	image?: { width: number; height: number; structuredPrompt: string; seed: number };
	imageFaultsLeft: number;
	downloads: number;
}

export const ASPECT_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9'];

const IMAGE_FIELDS = [
	'negative_prompt',
	'aspect_ratio',
	'guidance_scale',
	'steps_num',
	'tailored_model_influence',
	'visual_output_content_moderation',
];
const COMMON_FIELDS = [
	'tailored_model_id',
	'prompt',
	'structured_prompt',
	'seed',
	'sync',
	'prompt_content_moderation',
];

/** Fresh copies each call, so a test mutating its list cannot leak into another. */
export function defaultModels(): SimModel[] {
	const base = { training_mode: 'fully_automated', project_id: 11, dataset_id: 21 };
	return [
		{ ...base, id: 101, name: 'Brand Product Shots', description: 'Packshots in brand style', status: 'Completed', training_version: 'fibo', created_at: '2025-09-01T10:00:00Z' },
		{ ...base, id: 102, name: 'Brand Illustrations', description: 'Flat illustrations', status: 'Completed', training_version: 'fibo', dataset_id: 22, created_at: '2025-09-03T10:00:00Z' },
		{ ...base, id: 103, name: 'Legacy Portraits', description: 'Trained on the old engine', status: 'Completed', training_version: 'bria-2.3', dataset_id: 23, created_at: '2024-05-10T10:00:00Z' },
		{ ...base, id: 104, name: 'Spring Campaign', description: 'Still training', status: 'InProgress', training_version: 'fibo', dataset_id: 24, created_at: '2025-10-01T10:00:00Z' },
		{ ...base, id: 105, name: 'Broken Dataset', description: 'Training failed', status: 'Failed', training_version: 'fibo', dataset_id: 25, created_at: '2025-10-02T10:00:00Z' },
		// Newer spec copies omit training_version: a Completed one is still usable.
		{ ...base, id: 106, name: 'Spec Copy Model', description: 'No training_version field', status: 'Completed', dataset_id: 26, created_at: '2025-10-05T10:00:00Z' },
	];
}

// ---------- PNG ----------

const CRC_TABLE = (() => {
	const table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
})();

export function crc32(buf: Buffer): number {
	let c = 0xffffffff;
	for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
	const length = Buffer.alloc(4);
	length.writeUInt32BE(data.length);
	const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(typeAndData));
	return Buffer.concat([length, typeAndData, crc]);
}

/** An 8-bit RGB PNG filled with one colour (plus a darker border so it is not entirely flat). */
export function encodePng(width: number, height: number, rgb: [number, number, number]): Buffer {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 2; // colour type: truecolour
	const rowLength = 1 + width * 3;
	const raw = Buffer.alloc(rowLength * height);
	for (let y = 0; y < height; y++) {
		raw[y * rowLength] = 0; // filter: none
		for (let x = 0; x < width; x++) {
			const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1;
			const at = y * rowLength + 1 + x * 3;
			for (let i = 0; i < 3; i++) raw[at + i] = edge ? rgb[i] >> 1 : rgb[i];
		}
	}
	return Buffer.concat([
		PNG_SIGNATURE,
		pngChunk('IHDR', ihdr),
		pngChunk('IDAT', deflateSync(raw)),
		pngChunk('IEND', Buffer.alloc(0)),
	]);
}

/**
 * `png` grown to at least `minBytes` by a private ancillary chunk ("brIa": ancillary, private,
 * safe to copy) placed before IEND. Its bytes come from a PRNG seeded by `seed`, so the same job
 * always gives the same file and compression cannot shrink it.
 */
export function padPng(png: Buffer, minBytes: number, seed: number): Buffer {
	const chunkOverhead = 12; // length, type, CRC
	const missing = Math.floor(minBytes) - png.length - chunkOverhead;
	if (!(missing > 0)) return png;
	const filler = Buffer.alloc(missing);
	let x = seed >>> 0 || 0x9e3779b9;
	for (let i = 0; i + 4 <= missing; i += 4) {
		// xorshift32: fast and good enough to defeat compression
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		filler.writeUInt32LE(x >>> 0, i);
	}
	const iendAt = png.length - chunkOverhead;
	return Buffer.concat([png.subarray(0, iendAt), pngChunk('brIa', filler), png.subarray(iendAt)]);
}

/** Width and height from a PNG's IHDR, or undefined when `buf` is not a PNG. */
export function pngDimensions(buf: Buffer): { width: number; height: number } | undefined {
	if (!Buffer.isBuffer(buf) || buf.length < 24) return undefined;
	if (!buf.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
	if (buf.toString('ascii', 12, 16) !== 'IHDR') return undefined;
	return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

// ---------- structured prompts ----------

function hashOf(text: string): Buffer {
	return createHash('sha256').update(text).digest();
}

function pick<T>(list: T[], hash: Buffer, index: number): T {
	return list[hash[index % hash.length] % list.length];
}

/** A plausible FIBO structured prompt, deterministic for a given prompt and seed. */
export function fiboStructuredPrompt(prompt: string, seed: number): Record<string, unknown> {
	const h = hashOf(`${prompt}|${seed}`);
	const subject = prompt.trim().replace(/\s+/g, ' ').slice(0, 120) || 'an object';
	return {
		short_description: `A photograph of ${subject}, rendered in the brand's signature style.`,
		objects: [
			{
				description: `The main subject: ${subject}.`,
				location: pick(['center', 'center-left', 'center-right'], h, 0),
				relationship: 'The focal point of the scene.',
				relative_size: pick(['large within frame', 'medium-to-large within frame'], h, 1),
				shape_and_color: pick(['Rounded forms in warm tones', 'Clean geometric shapes in muted colours'], h, 2),
				texture: pick(['smooth, matte', 'soft, slightly glossy'], h, 3),
				appearance_details: 'Crisp edges with subtle highlights.',
				orientation: 'upright, facing the viewer',
			},
			{
				description: 'A simple surface supporting the subject.',
				location: 'bottom',
				relationship: 'Supports the main subject.',
				relative_size: 'large',
				shape_and_color: 'Flat, neutral grey',
				texture: 'fine grain',
				appearance_details: 'Soft reflection of the subject.',
				orientation: 'horizontal',
			},
		],
		background_setting: pick(['A seamless studio backdrop in a soft gradient.', 'A softly blurred interior with daylight.'], h, 4),
		lighting: {
			conditions: pick(['soft studio lighting', 'bright diffused daylight'], h, 5),
			direction: pick(['front-lit from the upper left', 'side-lit from the right'], h, 6),
			shadows: 'soft, subtle shadows beneath the subject',
		},
		aesthetics: {
			composition: pick(['centered composition', 'rule of thirds'], h, 7),
			color_scheme: pick(['warm pastel palette', 'cool neutral palette with one accent colour'], h, 8),
			mood_atmosphere: pick(['calm and premium', 'fresh and inviting'], h, 9),
		},
		photographic_characteristics: {
			depth_of_field: pick(['shallow', 'medium'], h, 10),
			focus: 'sharp focus on the main subject',
			camera_angle: pick(['eye-level', 'slightly elevated'], h, 11),
			lens_focal_length: pick(['50mm standard', '85mm portrait'], h, 12),
		},
		style_medium: 'photograph',
		text_render: [],
		context: 'A marketing visual for a brand campaign.',
		artistic_style: pick(['minimalist, commercial', 'clean, editorial'], h, 13),
	};
}

/** Refinement keeps everything and layers the new instruction on top, like Bria's refine. */
function refineStructuredPrompt(previous: Record<string, unknown>, prompt: string): Record<string, unknown> {
	const instruction = prompt.trim().replace(/\s+/g, ' ');
	const before = typeof previous.short_description === 'string' ? previous.short_description : '';
	const refined: Record<string, unknown> = {
		...previous,
		short_description: `${before} ${before ? 'Refined: ' : ''}${instruction}.`.trim(),
	};
	const aesthetics = previous.aesthetics;
	if (aesthetics && typeof aesthetics === 'object' && !Array.isArray(aesthetics))
		refined.aesthetics = { ...(aesthetics as Record<string, unknown>), mood_atmosphere: `adjusted: ${instruction}` };
	return refined;
}

function randomSeed(): number {
	return Math.floor(Math.random() * 2 ** 31);
}

// ---------- simulator ----------

class BadRequest extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly details: string,
	) {
		super(message);
	}
}

interface Ctx {
	req: http.IncomingMessage;
	res: http.ServerResponse;
	entry: LogEntry;
	raw: string;
	/** How a normal answer is delivered when a slowBody or truncate fault applies. */
	delivery?: Extract<Fault, { kind: 'slowBody' | 'truncate' }>;
	/** A submit to answer synchronously (the `sync` fault). */
	sync?: boolean;
}

type Rated = Exclude<Route, 'image' | 'model'>;
const MAX_BODY = 5 * 1024 * 1024;

export class BriaSimulator {
	readonly baseUrl: string;
	readonly imageBaseUrl: string;
	readonly log: LogEntry[] = [];
	readonly jobs = new Map<string, SimJob>();
	options: SimSettings;

	private plans: JobPlan[] = [];
	/** Plans chosen by the request (planWhen), before the queue of `plans`. */
	private matchedPlans: Array<{ match: (body: Record<string, unknown>) => boolean; plan: JobPlan; left: number }> = [];
	private faults = new Map<Route, Array<{ fault: Fault; left: number; when?: (entry: LogEntry) => boolean }>>();
	private windows = new Map<Rated, number[]>();
	/** Rendered PNGs by (structured prompt, seed, size), oldest first (options.pictureCache). */
	private pictures = new Map<string, Buffer>();
	private timers = new Set<NodeJS.Timeout>();
	private sockets = new Set<Socket>();
	private stopping?: Promise<void>;

	private constructor(
		private readonly api: http.Server,
		private readonly images: http.Server,
		options: SimOptions,
	) {
		this.baseUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
		this.imageBaseUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
		this.options = {
			token: options.token ?? 'test-token',
			jobMs: options.jobMs ?? 300,
			jitterMs: options.jitterMs ?? 0,
			rateLimitPerMinute: options.rateLimitPerMinute ?? 0,
			rateWindowMs: options.rateWindowMs ?? 60_000,
			retryAfterHeader: options.retryAfterHeader ?? true,
			models: options.models ?? defaultModels(),
			imageMimeType: options.imageMimeType ?? 'image/png',
			imageBytes: options.imageBytes ?? 0,
			pictureCache: options.pictureCache ?? 0,
		};
	}

	static async start(options: SimOptions = {}): Promise<BriaSimulator> {
		const api = http.createServer();
		const images = http.createServer();
		const listen = (server: http.Server, port: number) =>
			new Promise<void>((resolve, reject) => {
				server.once('error', reject);
				server.listen(port, '127.0.0.1', () => {
					server.off('error', reject);
					resolve();
				});
			});
		try {
			await listen(api, options.port ?? 0);
			await listen(images, options.imagePort ?? 0);
		} catch (error) {
			api.close();
			images.close();
			throw error;
		}
		// Handlers are wired after construction: the instance needs both ports first.
		const sim = new BriaSimulator(api, images, options);
		api.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => sim.accept('api', req, res));
		images.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => sim.accept('images', req, res));
		const track = sim.sockets;
		for (const server of [api, images]) {
			server.on('connection', (socket: Socket) => {
				track.add(socket);
				socket.on('close', () => track.delete(socket));
			});
			// A client that vanishes mid-request must not crash the test process.
			server.on('clientError', (_err, socket: Socket) => socket.destroy());
		}
		return sim;
	}

	planJobs(...plans: JobPlan[]): void {
		this.plans.push(...plans);
	}

	/**
	 * The plan of the next `times` accepted jobs whose request body matches (e.g. one item's prompt),
	 * whatever order the submits arrive in; other jobs take the `planJobs` queue.
	 */
	planWhen(match: (body: Record<string, unknown>) => boolean, plan: JobPlan, times = Infinity): void {
		if (times > 0) this.matchedPlans.push({ match, plan, left: times });
	}

	/** Queues a fault on `route`; with `when`, it waits for a request that matches (e.g. by its body). */
	inject(route: Route, fault: Fault, times = 1, when?: (entry: LogEntry) => boolean): void {
		if (!(times > 0)) return;
		const queue = this.faults.get(route) ?? [];
		queue.push({ fault, left: times, when });
		this.faults.set(route, queue);
	}

	requests(route?: Route): LogEntry[] {
		return route ? this.log.filter((e) => e.route === route) : [...this.log];
	}

	submits(): LogEntry[] {
		return this.log.filter(
			(e) =>
				(e.route === 'submitImage' || e.route === 'submitStructuredPrompt') &&
				(e.status === 200 || e.status === 202),
		);
	}

	reset(): void {
		this.log.length = 0; // in place: tests may hold a reference to `log`
		this.plans = [];
		this.matchedPlans = [];
		this.faults.clear();
		this.jobs.clear();
		this.windows.clear();
	}

	stop(): Promise<void> {
		if (this.stopping) return this.stopping;
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		const closed = Promise.all(
			[this.api, this.images].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
		).then(() => undefined);
		// Hung and keep-alive sockets would hold close() open forever.
		for (const socket of this.sockets) socket.destroy();
		this.sockets.clear();
		this.stopping = closed;
		return closed;
	}

	// ----- request pipeline -----

	private later(ms: number, fn: () => void): void {
		if (this.stopping) return;
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			fn();
		}, Math.max(0, ms));
		this.timers.add(timer);
	}

	private accept(host: 'api' | 'images', req: http.IncomingMessage, res: http.ServerResponse): void {
		const entry: LogEntry = {
			host,
			method: req.method ?? 'GET',
			path: req.url ?? '/',
			headers: { ...req.headers },
			body: undefined,
			status: 0,
			at: Date.now(),
		};
		this.log.push(entry);
		res.on('error', () => undefined);
		const chunks: Buffer[] = [];
		let size = 0;
		let tooBig = false;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_BODY) tooBig = true;
			else chunks.push(chunk);
		});
		req.on('error', () => undefined);
		req.on('end', () => {
			const raw = Buffer.concat(chunks).toString('utf8');
			entry.body = parseLogged(raw);
			const ctx: Ctx = { req, res, entry, raw };
			try {
				if (tooBig) return this.sendError(ctx, 413, 'Payload Too Large', `Body exceeds ${MAX_BODY} bytes`);
				if (host === 'api') this.handleApi(ctx);
				else this.handleImages(ctx);
			} catch (error) {
				// Never let a simulator bug kill the test run; answer like a server error.
				this.sendError(ctx, 500, 'Internal Server Error', String((error as Error)?.message ?? error));
			}
		});
	}

	private routeOf(method: string, path: string): Route | undefined {
		if (method === 'POST' && path === '/v2/image/generate/tailored') return 'submitImage';
		if (method === 'POST' && path === '/v2/structured_prompt/generate/tailored') return 'submitStructuredPrompt';
		if (method === 'GET' && /^\/v2\/status\/[^/]+$/.test(path)) return 'status';
		if (method === 'GET' && path === '/v1/tailored-gen/models') return 'models';
		if (method === 'GET' && /^\/v1\/tailored-gen\/models\/[^/]+$/.test(path)) return 'model';
		return undefined;
	}

	private handleApi(ctx: Ctx): void {
		const path = pathnameOf(ctx.entry.path);
		const route = this.routeOf(ctx.entry.method, path);
		ctx.entry.route = route;
		if (!route) return this.sendError(ctx, 404, 'Not Found', `No route for ${ctx.entry.method} ${path}`);
		this.withFault(ctx, route, () => {
			const token = ctx.req.headers.api_token;
			if (typeof token !== 'string' || token !== this.options.token)
				return this.sendError(ctx, 401, 'Unauthorized', 'Missing or invalid api_token');
			// Counted after auth (limits are per organization), before validation: rejected calls still count.
			if (!this.admit(ctx, route)) return;
			if (route === 'models') return this.send(ctx, 200, this.options.models);
			if (route === 'model') return this.handleModel(ctx, safeDecode(path.slice('/v1/tailored-gen/models/'.length)));
			if (route === 'status') return this.handleStatus(ctx, safeDecode(path.slice('/v2/status/'.length)));
			return this.handleSubmit(ctx, route === 'submitImage' ? 'image' : 'structured_prompt');
		});
	}

	/** Consumes the route's next injected fault, if any; otherwise (or after a delay) runs `normal`. */
	private withFault(ctx: Ctx, route: Route, normal: () => void, extra?: () => Fault | undefined): void {
		const fault = this.takeFault(route, ctx.entry) ?? extra?.();
		if (!fault) return normal();
		ctx.entry.fault = fault.kind;
		switch (fault.kind) {
			case 'respond': {
				const headers = { ...(fault.headers ?? {}) };
				let payload: string | Buffer | undefined;
				if (Buffer.isBuffer(fault.body)) {
					// Raw bytes, e.g. an image served under a content type of the test's choice.
					payload = fault.body;
					if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/octet-stream';
				} else if (typeof fault.body === 'string') {
					payload = fault.body;
					if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'text/plain; charset=utf-8';
				} else if (fault.body !== undefined) {
					payload = JSON.stringify(fault.body);
					if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
				}
				return this.sendRaw(ctx, fault.status, payload, headers);
			}
			case 'reset': {
				const socket = ctx.req.socket as Socket & { resetAndDestroy?: () => void };
				// A real TCP RST (ECONNRESET at the client) where the runtime supports it.
				if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
				else socket.destroy();
				return;
			}
			case 'hang':
				return; // stop() destroys the socket
			case 'delay':
				return this.later(fault.ms, () => {
					if (!ctx.res.destroyed) normal();
				});
			case 'pass':
				return normal();
			case 'sync':
				ctx.sync = true;
				return normal();
			case 'slowBody':
			case 'truncate':
				ctx.delivery = fault;
				return normal();
		}
	}

	private takeFault(route: Route, entry: LogEntry): Fault | undefined {
		const queue = this.faults.get(route);
		// The first queued fault for this request: the head, unless it waits for a request that matches.
		const index = queue ? queue.findIndex((queued) => !queued.when || queued.when(entry)) : -1;
		if (!queue || index === -1) return undefined;
		const head = queue[index];
		head.left -= 1;
		if (head.left <= 0) queue.splice(index, 1);
		return head.fault;
	}

	/** Sliding-window limiter per endpoint; answers 429 itself when over the limit. */
	private admit(ctx: Ctx, route: Route): boolean {
		const limit = this.options.rateLimitPerMinute;
		if (!limit || limit <= 0 || route === 'image') return true;
		const now = Date.now();
		const windowMs = this.options.rateWindowMs;
		// One model and the model list share one limit (Bria's model-list rate limit).
		const rated: Rated = route === 'model' ? 'models' : route;
		const hits = (this.windows.get(rated) ?? []).filter((t) => t > now - windowMs);
		this.windows.set(rated, hits);
		if (hits.length < limit) {
			hits.push(now);
			return true;
		}
		const retryAfter = Math.max(1, Math.ceil((hits[0] + windowMs - now) / 1000));
		const headers: Record<string, string> = this.options.retryAfterHeader ? { 'Retry-After': String(retryAfter) } : {};
		this.sendError(ctx, 429, 'Too Many Requests', `Rate limit of ${limit} requests per minute exceeded for this endpoint`, headers);
		return false;
	}

	/** GET /v1/tailored-gen/models/{id}: the model with the list's fields, or 404 for an ID the organization does not have. */
	private handleModel(ctx: Ctx, id: string): void {
		const model = this.options.models.find((m) => String(m.id) === id);
		if (!model) return this.sendError(ctx, 404, 'Not Found', `Model not found in organization: ${id}`);
		this.send(ctx, 200, model);
	}

	private handleStatus(ctx: Ctx, id: string): void {
		ctx.entry.requestId = id;
		const job = this.jobs.get(id);
		if (!job) return this.send(ctx, 404, { status: 'NOT_FOUND' });
		const done = job.outcome !== 'NEVER' && Date.now() - job.createdAt >= job.durationMs;
		ctx.entry.jobStatus = done ? job.outcome : 'IN_PROGRESS';
		if (!done) return this.send(ctx, 200, { status: 'IN_PROGRESS', request_id: id });
		if (job.outcome === 'COMPLETED') return this.send(ctx, 200, { status: 'COMPLETED', request_id: id, result: job.result });
		return this.send(ctx, 200, { status: job.outcome, request_id: id, error: job.error });
	}

	private handleSubmit(ctx: Ctx, kind: SimJob['kind']): void {
		let job: SimJob;
		try {
			job = this.createJob(ctx, kind);
		} catch (error) {
			if (error instanceof BadRequest) return this.sendError(ctx, error.status, error.message, error.details);
			throw error;
		}
		if (ctx.sync) job.sync = true;
		ctx.entry.requestId = job.id;
		this.jobs.set(job.id, job);
		if (!job.sync)
			return this.send(ctx, 202, { request_id: job.id, status_url: `${this.baseUrl}/v2/status/${job.id}` });
		if (job.outcome === 'NEVER') return; // a sync call on a job that never ends: hangs until stop()
		this.later(job.durationMs, () => {
			if (ctx.res.destroyed) return;
			if (job.outcome === 'COMPLETED') return this.send(ctx, 200, { result: job.result, request_id: job.id });
			const err = job.error ?? { code: 500, message: 'Internal Server Error', details: '' };
			const status = err.code >= 400 && err.code <= 599 ? err.code : 500;
			this.send(ctx, status, { error: err, request_id: job.id });
		});
	}

	/** Validates like Bria (schema → model → moderation) and builds the job; throws BadRequest. */
	private createJob(ctx: Ctx, kind: SimJob['kind']): SimJob {
		const contentType = String(ctx.req.headers['content-type'] ?? '');
		if (contentType && !/\bjson\b/i.test(contentType))
			throw new BadRequest(400, 'Bad Request', `Body must be JSON (got Content-Type ${contentType})`);
		let body: unknown;
		try {
			body = JSON.parse(ctx.raw);
		} catch {
			throw new BadRequest(400, 'Bad Request', 'Request body is not valid JSON');
		}
		if (!body || typeof body !== 'object' || Array.isArray(body))
			throw new BadRequest(400, 'Bad Request', 'Request body must be a JSON object');
		const b = body as Record<string, unknown>;

		const allowed = kind === 'image' ? [...COMMON_FIELDS, ...IMAGE_FIELDS] : COMMON_FIELDS;
		const imageOnly = Object.keys(b).filter((k) => kind === 'structured_prompt' && IMAGE_FIELDS.includes(k));
		if (imageOnly.length)
			throw new BadRequest(400, 'Bad Request', `Field(s) not allowed for structured prompt generation: ${imageOnly.join(', ')}`);
		const unknown = Object.keys(b).filter((k) => !allowed.includes(k));
		if (unknown.length) throw new BadRequest(400, 'Bad Request', `Unknown field(s): ${unknown.join(', ')}`);

		if (!('tailored_model_id' in b)) throw new BadRequest(400, 'Bad Request', 'tailored_model_id is required');
		if (typeof b.tailored_model_id !== 'string')
			throw new BadRequest(400, 'Bad Request', 'tailored_model_id must be a string');
		if (!b.tailored_model_id.trim()) throw new BadRequest(400, 'Bad Request', 'tailored_model_id must not be empty');

		const has = (k: string) => k in b;
		const bad = (details: string) => new BadRequest(400, 'Bad Request', details);
		for (const k of ['prompt', 'structured_prompt', 'negative_prompt'])
			if (has(k) && (typeof b[k] !== 'string' || !(b[k] as string).trim())) throw bad(`${k} must be a non-empty string`);
		for (const k of ['sync', 'prompt_content_moderation', 'visual_output_content_moderation'])
			if (has(k) && typeof b[k] !== 'boolean') throw bad(`${k} must be a boolean`);
		if (has('seed') && !Number.isSafeInteger(b.seed)) throw bad('seed must be an integer');
		if (has('tailored_model_influence')) {
			const v = b.tailored_model_influence;
			if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1.5)
				throw bad('tailored_model_influence must be a number between 0 and 1.5');
		}
		if (has('guidance_scale')) {
			const v = b.guidance_scale;
			if (!Number.isInteger(v) || (v as number) < 3 || (v as number) > 5)
				throw bad('guidance_scale must be an integer between 3 and 5');
		}
		if (has('steps_num')) {
			const v = b.steps_num;
			if (!Number.isInteger(v) || (v as number) < 20 || (v as number) > 50)
				throw bad('steps_num must be an integer between 20 and 50');
		}
		if (has('aspect_ratio') && !ASPECT_RATIOS.includes(b.aspect_ratio as string))
			throw bad(`aspect_ratio must be one of ${ASPECT_RATIOS.join(', ')}`);

		let previous: Record<string, unknown> | undefined;
		if (has('structured_prompt')) {
			try {
				const parsed: unknown = JSON.parse(b.structured_prompt as string);
				if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) previous = parsed as Record<string, unknown>;
			} catch {
				// reported below
			}
			if (!previous) throw bad('structured_prompt must be a string containing a JSON object');
		}

		const prompt = b.prompt as string | undefined;
		let mode: SimJob['mode'];
		if (previous && prompt !== undefined) mode = 'refine';
		else if (previous && kind === 'image' && has('seed')) mode = 'recreate';
		else if (previous && kind === 'image')
			throw bad('seed is required when structured_prompt is given without prompt (recreate)');
		else if (previous) throw bad('structured_prompt requires prompt (refinement)');
		else if (prompt !== undefined) mode = 'generate';
		else throw bad('Either prompt or structured_prompt must be provided');

		const model = this.options.models.find((m) => String(m.id) === b.tailored_model_id);
		if (!model)
			throw new BadRequest(403, 'Forbidden', `Model not found in organization: ${b.tailored_model_id as string}`);
		if (model.status !== 'Completed')
			throw bad(`Model ${model.id} is not ready for generation (status ${model.status})`);
		if (model.training_version !== undefined && model.training_version !== 'fibo')
			throw bad(`Model ${model.id} was trained with ${model.training_version}; only fibo models are supported`);

		if (b.prompt_content_moderation !== false && prompt !== undefined && /\bforbidden\b/i.test(prompt))
			throw new BadRequest(422, 'Content moderation failure', 'The prompt was flagged by content moderation');

		// Accepted: this submit consumes the next plan.
		const matched = this.matchedPlans.find((entry) => entry.left > 0 && entry.match(b));
		if (matched) matched.left -= 1;
		const plan = matched?.plan ?? this.plans.shift() ?? {};
		const seed = has('seed') ? (b.seed as number) : randomSeed();
		let sp: string;
		if (mode === 'recreate') sp = b.structured_prompt as string;
		else if (mode === 'refine') sp = JSON.stringify(refineStructuredPrompt(previous!, prompt!));
		else sp = JSON.stringify(fiboStructuredPrompt(prompt!, seed));

		const id = plan.requestId ?? randomUUID();
		const result: Record<string, unknown> = { seed, structured_prompt: sp };
		let image: SimJob['image'];
		if (kind === 'image') {
			result.image_url = `${this.imageBaseUrl}/results/${id}.png`;
			image = { ...pictureSize((b.aspect_ratio as string) ?? '1:1'), structuredPrompt: sp, seed };
		}
		for (const [key, value] of Object.entries(plan.result ?? {})) {
			if (value === undefined) delete result[key];
			else result[key] = value;
		}
		const outcome = plan.outcome ?? 'COMPLETED';
		const jitter = this.options.jitterMs ? (Math.random() * 2 - 1) * this.options.jitterMs : 0;
		return {
			id,
			kind,
			mode,
			body: b,
			plan,
			createdAt: Date.now(),
			durationMs: Math.max(0, Math.round((plan.durationMs ?? this.options.jobMs) + jitter)),
			outcome,
			sync: b.sync === true,
			result,
			error:
				outcome === 'ERROR' || outcome === 'UNKNOWN'
					? {
							code: plan.error?.code ?? 500,
							message: plan.error?.message ?? (outcome === 'ERROR' ? 'Generation failed' : 'Unknown error'),
							details: plan.error?.details ?? (outcome === 'ERROR' ? 'The job failed during generation' : 'Internal error, please contact support with the request_id'),
						}
					: undefined,
			image,
			imageFaultsLeft: plan.imageFault ? (plan.imageFaultTimes ?? Infinity) : 0,
			downloads: 0,
		};
	}

	private handleImages(ctx: Ctx): void {
		const path = pathnameOf(ctx.entry.path);
		const match = /^\/results\/([^/]+)\.png$/.exec(path);
		const method = ctx.entry.method;
		if (!match || (method !== 'GET' && method !== 'HEAD')) return this.sendNoSuchKey(ctx, path);
		ctx.entry.route = 'image';
		const id = safeDecode(match[1]);
		ctx.entry.requestId = id;
		const job = this.jobs.get(id);
		const jobFault = (): Fault | undefined => {
			if (!job?.plan.imageFault || job.imageFaultsLeft <= 0) return undefined;
			job.imageFaultsLeft -= 1;
			return job.plan.imageFault;
		};
		this.withFault(
			ctx,
			'image',
			() => {
				// Only finished image jobs have a file; anything else looks like a missing object.
				const ready = job?.image && job.outcome === 'COMPLETED' && Date.now() - job.createdAt >= job.durationMs;
				if (!job || !job.image || !ready) return this.sendNoSuchKey(ctx, path);
				job.downloads += 1;
				const png = this.picture(job.image);
				this.sendRaw(ctx, 200, png, { 'Content-Type': this.options.imageMimeType, 'Cache-Control': 'private, max-age=259200' });
			},
			jobFault,
		);
	}

	/** The result PNG of an image job: drawn, padded if asked, and kept when the cache is on. */
	private picture({ structuredPrompt, seed, width, height }: NonNullable<SimJob['image']>): Buffer {
		const key = this.options.pictureCache > 0 ? createHash('sha256').update(`${seed}|${width}x${height}|${structuredPrompt}`).digest('hex') : '';
		const cached = key ? this.pictures.get(key) : undefined;
		if (cached) return cached;
		const picture = renderPicture(structuredPrompt, seed, { width, height });
		const png = this.options.imageBytes ? padPng(picture, this.options.imageBytes, seed) : picture;
		if (key) {
			this.pictures.set(key, png);
			for (const oldest of this.pictures.keys()) {
				if (this.pictures.size <= this.options.pictureCache) break;
				this.pictures.delete(oldest);
			}
		}
		return png;
	}

	// ----- responses -----

	/** Storage hosts answer missing objects in their own (S3-like) format, not Bria's. */
	private sendNoSuchKey(ctx: Ctx, path: string): void {
		const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${escapeXml(path)}</Key></Error>`;
		this.sendRaw(ctx, 404, xml, { 'Content-Type': 'application/xml' });
	}

	private sendError(ctx: Ctx, status: number, message: string, details: string, headers: Record<string, string> = {}): void {
		const requestId = ctx.entry.requestId ?? randomUUID();
		ctx.entry.requestId = requestId;
		this.send(ctx, status, { error: { code: status, message, details }, request_id: requestId }, headers);
	}

	private send(ctx: Ctx, status: number, body: unknown, headers: Record<string, string> = {}): void {
		this.sendRaw(ctx, status, JSON.stringify(body), { 'Content-Type': 'application/json', ...headers });
	}

	private sendRaw(ctx: Ctx, status: number, payload: string | Buffer | undefined, headers: Record<string, string>): void {
		const { res, entry } = ctx;
		if (res.headersSent || res.destroyed) return;
		entry.status = status;
		const bytes = payload === undefined ? undefined : Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
		try {
			res.writeHead(status, { ...headers, 'Content-Length': String(bytes?.length ?? 0) });
			if (bytes?.length && entry.method !== 'HEAD' && ctx.delivery) return this.deliver(ctx, bytes, ctx.delivery);
			res.end(entry.method === 'HEAD' ? undefined : bytes);
		} catch {
			// e.g. an invalid header from a test's fault: drop the connection rather than crash
			entry.status = 0;
			res.destroy();
		}
	}

	/** Sends `bytes` (headers already written) slowly, or only its first half before dropping the connection. */
	private deliver(ctx: Ctx, bytes: Buffer, delivery: NonNullable<Ctx['delivery']>): void {
		const { res } = ctx;
		if (delivery.kind === 'truncate') {
			res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
			return;
		}
		const pieces = Math.max(1, Math.min(delivery.chunks ?? 10, bytes.length));
		const size = Math.ceil(bytes.length / pieces);
		for (let i = 0; i < pieces; i++) {
			const piece = bytes.subarray(i * size, (i + 1) * size);
			const last = i === pieces - 1;
			this.later(((i + 1) * delivery.ms) / pieces, () => {
				if (res.destroyed) return;
				if (last) res.end(piece);
				else res.write(piece);
			});
		}
	}
}

function parseLogged(raw: string): unknown {
	if (!raw) return undefined;
	try {
		return JSON.parse(raw);
	} catch {
		return raw;
	}
}

function pathnameOf(url: string): string {
	const q = url.indexOf('?');
	return q === -1 ? url : url.slice(0, q);
}

/** A malformed escape is just an unknown id, not a server error. */
function safeDecode(text: string): string {
	try {
		return decodeURIComponent(text);
	} catch {
		return text;
	}
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
	return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function escapeXml(text: string): string {
	return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
