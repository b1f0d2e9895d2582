/**
 * The simulator's result pictures: a small deterministic rasteriser (gradients, anti-aliased
 * shapes, light and shadow, a bitmap-font caption, film grain) driven by a FIBO structured prompt
 * and a seed, encoded as PNG with node:zlib. Test and demo code only: the package ships no image code.
 *
 * What comes from where, so the three image modes read at a glance:
 * - the structured prompt decides the look: background, palette, light colour and side, the
 *   subject's kind and colour, the surface, the caption (a refine appends its instruction to
 *   short_description and mood_atmosphere; colours named there next to "background", "light" or
 *   "table" win, so "make the background a deep ocean blue" turns it blue);
 * - the seed decides the composition: where things stand, their sizes, the bokeh, the grain;
 * - nothing else: the same structured prompt (any JSON spacing) and seed give the same bytes.
 */
import { createHash } from 'node:crypto';
import { constants, crc32, deflateSync, inflateSync } from 'node:zlib';

export type Rgb = [number, number, number];

/**
 * Maths helpers bound once: under jest the code runs in a vm context, where every lookup of the
 * global `Math` inside a pixel loop goes through the context's interceptors (measured 10x slower).
 */
const { PI, abs, ceil, exp, floor, hypot, max, min, round, sin, sqrt } = Math;

/** Real Bria results are about 1 megapixel: long side 1024 px, the short side per aspect ratio. */
export function pictureSize(aspectRatio: string, longSide = 1024): { width: number; height: number } {
	const [w, h] = aspectRatio.split(':').map(Number);
	if (!(w > 0) || !(h > 0)) return { width: longSide, height: longSide };
	return w >= h
		? { width: longSide, height: round((longSide * h) / w) }
		: { width: round((longSide * w) / h), height: longSide };
}

// ---------- reading the structured prompt ----------

export type SubjectKind = 'mug' | 'bottle' | 'box' | 'sphere' | 'vase';

export interface Scene {
	background: Rgb;
	/** Studio backdrop, or an interior with a window on the light's side. */
	setting: 'studio' | 'interior';
	light: { colour: Rgb; fromX: number; strength: number };
	subject: { kind: SubjectKind; colour: Rgb; x: number; size: number; glossy: boolean; handleSide: 1 | -1; filled: boolean };
	extras: Array<{ kind: 'sphere' | 'box'; colour: Rgb; x: number; size: number }>;
	surface: { colour: Rgb; wood: boolean; horizon: number };
	bokeh: Array<{ x: number; y: number; r: number; alpha: number }>;
	/** The interior's window: offset from the light's side and size, both fractions. */
	window: { offset: number; scale: number };
	vignette: number;
	caption: string;
	/** The structured prompt's text_render entries, lettered onto the picture. */
	texts: Array<{ text: string; x: number; y: number; scale: number; colour: Rgb }>;
	seed: number;
}

/** A scene with its light worked out, as the painters use it. */
type LitScene = Scene & { lamp: Lamp };

const COLOURS: Record<string, Rgb> = {
	red: [196, 44, 48], crimson: [170, 24, 48], scarlet: [210, 40, 30], burgundy: [110, 24, 40],
	orange: [236, 128, 44], amber: [232, 160, 40], peach: [246, 190, 160], coral: [238, 118, 96],
	terracotta: [188, 94, 64], yellow: [242, 204, 64], gold: [222, 170, 62], golden: [226, 174, 70],
	mustard: [204, 160, 40], green: [64, 148, 84], sage: [150, 174, 138], olive: [120, 128, 60],
	mint: [170, 224, 196], emerald: [30, 130, 90], forest: [34, 90, 52], teal: [28, 132, 136],
	turquoise: [48, 190, 186], aqua: [90, 200, 210], cyan: [60, 190, 220], blue: [48, 96, 196],
	ocean: [16, 70, 130], navy: [22, 36, 84], sky: [132, 182, 232], cobalt: [0, 72, 170],
	indigo: [62, 52, 140], purple: [118, 58, 158], violet: [132, 80, 190], lavender: [186, 170, 222],
	lilac: [200, 170, 210], magenta: [200, 40, 140], pink: [236, 142, 172], rose: [222, 120, 140],
	blush: [240, 196, 196], brown: [118, 78, 50], chocolate: [80, 48, 30],
	wood: [152, 102, 62], wooden: [152, 102, 62], oak: [170, 122, 76], walnut: [110, 72, 44],
	beige: [216, 196, 166], sand: [214, 190, 150], cream: [242, 232, 208], ivory: [244, 238, 222],
	white: [244, 244, 240], black: [26, 26, 30], charcoal: [54, 56, 60], grey: [142, 142, 142],
	gray: [142, 142, 142], silver: [190, 194, 200], slate: [96, 110, 126], stone: [168, 160, 150],
	marble: [232, 230, 226], concrete: [160, 158, 152], neutral: [204, 198, 190],
};
const DARKER = /\b(deep|dark|rich|night|midnight|moody)\b/;
const LIGHTER = /\b(light|pale|soft|pastel|bright|airy)\b/;

function mix(a: Rgb, b: Rgb, t: number): Rgb {
	return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/**
 * The colour a phrase names ("deep ocean blue", "warm pastel"), or undefined if it names none.
 * Only the clause that mentions `topic` counts, so "a red teapot on a wooden table" gives the
 * table wood and the teapot red.
 */
export function colourOf(text: string, topic?: RegExp): Rgb | undefined {
	const clauses = text.toLowerCase().split(/,|\s(?:on|in|with|against|at|under|beside|next to|near|over|and)\s/);
	const lower = topic ? clauses.find((clause) => topic.test(clause)) : clauses.join(' ');
	if (lower === undefined) return undefined;
	const named = (lower.match(/[a-z]+/g) ?? []).filter((word) => COLOURS[word]).slice(0, 3);
	if (!named.length) return undefined;
	let colour = named.map((word) => COLOURS[word]).reduce((sum, c) => [sum[0] + c[0], sum[1] + c[1], sum[2] + c[2]], [0, 0, 0] as Rgb);
	colour = colour.map((v) => v / named.length) as Rgb;
	if (DARKER.test(lower)) colour = mix(colour, [0, 0, 0], 0.35);
	else if (LIGHTER.test(lower)) colour = mix(colour, [255, 255, 255], 0.3);
	return colour;
}

function text(value: unknown): string {
	return typeof value === 'string' ? value : '';
}

function record(value: unknown): Record<string, unknown> {
	return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Sentences in field order; a refine appends to short_description and mood, so later ones are newer. */
function sentencesOf(...fields: string[]): string[] {
	return fields.flatMap((field) => field.split(/(?<=[.;!?])\s+|\bRefined:\s*|\badjusted:\s*/)).filter((s) => s.trim());
}

/** The colour named by the newest sentence that mentions `topic`. */
function newestColour(sentences: string[], topic: RegExp): Rgb | undefined {
	for (let i = sentences.length - 1; i >= 0; i--) {
		if (!topic.test(sentences[i].toLowerCase())) continue;
		const colour = colourOf(sentences[i], topic);
		if (colour) return colour;
	}
	return undefined;
}

/** Deterministic numbers in [0, 1) from a label, for choices made by the seed. */
function randomFrom(label: string): () => number {
	const digest = createHash('sha256').update(label).digest();
	let state = digest.readUInt32LE(0) || 0x9e3779b9;
	return () => {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		return (state >>> 0) / 4294967296;
	};
}

function kindOf(description: string): SubjectKind {
	const d = description.toLowerCase();
	if (/\b(mug|cup|coffee|tea|latte|espresso|teacup)\b/.test(d)) return 'mug';
	if (/\b(bottle|perfume|serum|wine|soda|drink|lotion|shampoo|flask)\b/.test(d)) return 'bottle';
	if (/\b(box|package|packaging|book|phone|speaker|cube|gift|carton|laptop)\b/.test(d)) return 'box';
	if (/\b(ball|sphere|orange|apple|fruit|planet|globe|lamp|teapot|bowl)\b/.test(d)) return 'sphere';
	return 'vase';
}

/** The picture's plan: everything the painter needs, from the structured prompt and the seed only. */
export function sceneOf(structuredPrompt: Record<string, unknown>, seed: number): Scene {
	const sp = structuredPrompt;
	const lighting = record(sp.lighting);
	const aesthetics = record(sp.aesthetics);
	const photo = record(sp.photographic_characteristics);
	const objects = Array.isArray(sp.objects) ? sp.objects.map(record) : [];
	const shortDescription = text(sp.short_description);
	const sentences = sentencesOf(text(sp.background_setting), text(lighting.conditions), shortDescription, text(aesthetics.mood_atmosphere));
	const scheme = text(aesthetics.color_scheme).toLowerCase();
	const random = randomFrom(`composition|${seed}`);
	const jitter = (amount: number) => (random() * 2 - 1) * amount;

	// Palette: the colour scheme, unless a sentence names the background's colour.
	const warm = /\bwarm\b/.test(scheme);
	const schemeColour = colourOf(scheme) ?? (warm ? COLOURS.peach : /\bcool\b/.test(scheme) ? [176, 192, 206] : COLOURS.neutral);
	const paletteBase: Rgb = warm ? mix(schemeColour, COLOURS.cream, 0.35) : mix(schemeColour, COLOURS.silver, 0.3);
	const background = newestColour(sentences, /\b(background|backdrop|wall|sky|setting)\b/) ?? paletteBase;

	const lightWords = sentences.filter((s) => /\b(light|lighting|lit|sun|sunlight|glow)\b/i.test(s)).join(' ').toLowerCase();
	const newestLight = sentencesOf(text(lighting.conditions), shortDescription).reverse().find((s) => /\b(light|sun)/i.test(s))?.toLowerCase() ?? '';
	let lightColour: Rgb = [255, 250, 242];
	if (/\b(golden|sunset|warm|candle|amber)\b/.test(newestLight || lightWords)) lightColour = [255, 196, 120];
	else if (/\b(cool|blue|moon|overcast)\b/.test(newestLight)) lightColour = [200, 220, 255];
	else if (/\bdaylight\b/.test(newestLight)) lightColour = [255, 254, 250];
	const direction = text(lighting.direction).toLowerCase();
	const fromX = (/\bleft\b/.test(direction) ? -1 : /\bright\b/.test(direction) ? 1 : 0) * 0.8 + jitter(0.15);
	const strength = /\b(dramatic|hard|strong|bright|golden)\b/.test(`${text(lighting.conditions)} ${newestLight}`.toLowerCase()) ? 1.2 : 1;

	const main = objects[0] ?? {};
	const mainText = `${text(main.description)} ${text(main.shape_and_color)}`;
	const subjectColour =
		colourOf(text(main.shape_and_color)) ??
		colourOf(text(main.description), /./) ??
		(/\bwarm\b/i.test(text(main.shape_and_color)) ? COLOURS.terracotta : /\bmuted\b/i.test(text(main.shape_and_color)) ? COLOURS.sage : COLOURS.coral);
	const location = text(main.location).toLowerCase();
	let x = /left/.test(location) ? 0.38 : /right/.test(location) ? 0.62 : 0.5;
	if (/thirds/.test(text(aesthetics.composition).toLowerCase())) x = x === 0.5 ? (random() < 0.5 ? 0.36 : 0.64) : x < 0.5 ? 0.34 : 0.66;
	const sizeText = text(main.relative_size).toLowerCase();
	const size = (/\bsmall\b/.test(sizeText) ? 0.24 : /medium/.test(sizeText) ? 0.33 : /large/.test(sizeText) ? 0.38 : 0.34) * (1 + jitter(0.08));

	const surfaceObject = objects.slice(1).find((o) => /bottom|surface|table|floor/i.test(`${text(o.location)} ${text(o.description)}`)) ?? {};
	const surfaceText = `${text(surfaceObject.shape_and_color)} ${text(surfaceObject.texture)}`;
	const surfaceSentences = sentencesOf(shortDescription, text(aesthetics.mood_atmosphere));
	const surfaceColour = newestColour(surfaceSentences, /\b(table|surface|floor|counter|desk|shelf)\b/) ?? colourOf(surfaceText) ?? COLOURS.stone;
	const wood = /\b(wood|wooden|oak|walnut|timber)\b/i.test(`${surfaceSentences.filter((s) => /\b(table|surface|desk|floor)\b/i.test(s)).join(' ')} ${surfaceText}`);
	const camera = text(photo.camera_angle).toLowerCase();
	const horizon = (/elevated|high|above|overhead/.test(camera) ? 0.56 : /low/.test(camera) ? 0.7 : 0.62) + jitter(0.03);

	const extras = objects.slice(1).filter((o) => o !== surfaceObject).slice(0, 3).map((o, index) => {
		const side = index % 2 === 0 ? -1 : 1;
		return {
			kind: kindOf(text(o.description)) === 'box' ? ('box' as const) : ('sphere' as const),
			colour: colourOf(`${text(o.shape_and_color)} ${text(o.description)}`) ?? mix(subjectColour, COLOURS.cream, 0.5),
			x: min(0.9, max(0.1, x + side * (0.26 + random() * 0.08))),
			size: size * (0.35 + random() * 0.15),
		};
	});

	const shallow = /shallow/.test(text(photo.depth_of_field).toLowerCase());
	const bokeh = Array.from({ length: shallow ? 7 + floor(random() * 5) : 3 }, () => ({
		x: random(),
		y: random() * horizon * 0.9,
		r: 0.02 + random() * (shallow ? 0.07 : 0.03),
		alpha: 0.06 + random() * (shallow ? 0.14 : 0.06),
	}));

	return {
		background,
		setting: /\b(interior|room|window|kitchen|cafe|café|home)\b/i.test(text(sp.background_setting)) ? 'interior' : 'studio',
		light: { colour: lightColour, fromX: max(-1, min(1, fromX)), strength },
		subject: {
			kind: kindOf(text(main.description) || shortDescription),
			colour: subjectColour,
			x: min(0.7, max(0.3, x + jitter(0.05))),
			size,
			glossy: /\b(gloss|glossy|glazed|ceramic|glass|shiny|polished)\b/i.test(`${mainText} ${text(main.texture)} ${shortDescription}`),
			handleSide: random() < 0.5 ? -1 : 1,
			filled: /\b(coffee|tea|latte|espresso)\b/i.test(`${text(main.description)} ${shortDescription}`),
		},
		extras,
		surface: { colour: surfaceColour, wood, horizon },
		bokeh,
		window: { offset: jitter(0.1), scale: 0.8 + random() * 0.35 },
		vignette: /\b(premium|moody|dramatic|calm|night)\b/i.test(text(aesthetics.mood_atmosphere)) ? 0.32 : 0.2,
		caption: shortDescription.replace(/\s+/g, ' ').trim(),
		texts: (Array.isArray(sp.text_render) ? sp.text_render.map(record) : []).slice(0, 3).flatMap((entry, index) => {
			const words = text(entry.text).replace(/\s+/g, ' ').trim().slice(0, 40);
			if (!words) return [];
			const where = text(entry.location).toLowerCase();
			const size = text(entry.size).toLowerCase();
			return [{
				text: words,
				x: /left/.test(where) ? 0.06 : /right/.test(where) ? 0.94 : 0.5,
				y: /top|upper/.test(where) ? 0.08 + index * 0.08 : /bottom|lower/.test(where) ? 0.7 - index * 0.08 : 0.3 + index * 0.08,
				scale: /large|big|headline/.test(size) ? 2 : /small/.test(size) ? 0.75 : 1.25,
				colour: colourOf(text(entry.color)) ?? [250, 248, 240],
			}];
		}),
		seed,
	};
}

// ---------- painting ----------

let scratchPixels = new Float32Array(0);

/**
 * Rendering is synchronous, so one pixel buffer serves every picture: allocating 12 MB per image
 * cost more (page faults, GC) than drawing it. Every pixel is overwritten by the background.
 */
function scratch(length: number): Float32Array {
	if (scratchPixels.length < length) scratchPixels = new Float32Array(length);
	return scratchPixels.subarray(0, length);
}

/** An RGB canvas of floats (0..255) with anti-aliased shape filling. */
class Canvas {
	readonly data: Float32Array;
	constructor(
		readonly width: number,
		readonly height: number,
	) {
		this.data = scratch(width * height * 3);
	}

	/**
	 * Blends `shade` over every pixel where the signed distance `sdf` (pixels, negative inside) is
	 * below zero, with a one-pixel anti-aliased edge, or a `feather`-wide soft edge for shadows and glows.
	 */
	fill(
		box: [number, number, number, number],
		sdf: (x: number, y: number) => number,
		shade: (x: number, y: number, out: Rgb) => void,
		alpha = 1,
		feather = 1,
	): void {
		const x0 = max(0, floor(box[0] - feather));
		const y0 = max(0, floor(box[1] - feather));
		const x1 = min(this.width, ceil(box[2] + feather));
		const y1 = min(this.height, ceil(box[3] + feather));
		const out: Rgb = [0, 0, 0];
		const data = this.data;
		for (let y = y0; y < y1; y++) {
			for (let x = x0; x < x1; x++) {
				const d = sdf(x + 0.5, y + 0.5);
				const t = 0.5 - d / feather;
				if (t <= 0) {
					// Outside: no covered pixel is nearer than the distance, so jump most of it
					// (70%: some distances here are estimates that may run a little long).
					const skip = floor((d - feather / 2) * 0.7);
					if (skip > 1) x += skip - 1;
					continue;
				}
				const coverage = (t >= 1 ? 1 : feather > 1 ? t * t * (3 - 2 * t) : t) * alpha;
				shade(x + 0.5, y + 0.5, out);
				const i = (y * this.width + x) * 3;
				data[i] += (out[0] - data[i]) * coverage;
				data[i + 1] += (out[1] - data[i + 1]) * coverage;
				data[i + 2] += (out[2] - data[i + 2]) * coverage;
			}
		}
	}
}

/** Distance to an ellipse's edge, first-order accurate (k0 - 1 over the gradient's length). */
const ellipseSdf = (cx: number, cy: number, rx: number, ry: number) => (x: number, y: number) => {
	const nx = (x - cx) / rx;
	const ny = (y - cy) / ry;
	const k0 = sqrt(nx * nx + ny * ny);
	const k1 = sqrt((nx / rx) ** 2 + (ny / ry) ** 2);
	return k1 === 0 ? -min(rx, ry) : (k0 * (k0 - 1)) / k1;
};

const boxSdf = (x0: number, y0: number, x1: number, y1: number, radius = 0) => {
	const cx = (x0 + x1) / 2;
	const cy = (y0 + y1) / 2;
	const hx = (x1 - x0) / 2 - radius;
	const hy = (y1 - y0) / 2 - radius;
	return (x: number, y: number) => {
		const qx = abs(x - cx) - hx;
		const qy = abs(y - cy) - hy;
		return hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - radius;
	};
};

const flat = (colour: Rgb) => (_x: number, _y: number, out: Rgb) => {
	out[0] = colour[0];
	out[1] = colour[1];
	out[2] = colour[2];
};

/** Light and half vectors for `lit`, worked out once per picture. */
interface Lamp {
	lx: number;
	ly: number;
	lz: number;
	hx: number;
	hy: number;
	hz: number;
	strength: number;
	/** Light colour as 0..1 factors. */
	r: number;
	g: number;
	b: number;
	/** Ambient factors: the subject picks up some of the background's colour. */
	ar: number;
	ag: number;
	ab: number;
}

function lampOf(scene: Scene): Lamp {
	const lx = scene.light.fromX * 0.75;
	const ly = -0.45;
	const lz = sqrt(max(0, 1 - lx * lx - ly * ly));
	// Blinn's half vector, with the viewer straight ahead.
	const hl = hypot(lx, ly, lz + 1);
	const [r, g, b] = scene.light.colour.map((c) => c / 255);
	const [ar, ag, ab] = scene.background.map((c) => 0.32 * ((c / 255) * 0.5 + 0.5));
	return { lx, ly, lz, hx: lx / hl, hy: ly / hl, hz: (lz + 1) / hl, strength: scene.light.strength, r, g, b, ar, ag, ab };
}

/** Lambert plus a highlight for a surface whose unit normal is (nx, ny, nz). */
function lit(lamp: Lamp, colour: Rgb, nx: number, ny: number, nz: number, glossy: boolean, out: Rgb): void {
	const diffuse = max(0, nx * lamp.lx + ny * lamp.ly + nz * lamp.lz) * lamp.strength * 0.78;
	let h = max(0, nx * lamp.hx + ny * lamp.hy + nz * lamp.hz);
	// h^64 (glossy) or h^16 (matte) by squaring: cheaper than pow for every pixel.
	h *= h;
	h *= h;
	h *= h;
	h *= h;
	if (glossy) {
		h *= h;
		h *= h;
	}
	const specular = 255 * h * (glossy ? 0.9 : 0.18);
	out[0] = colour[0] * (lamp.ar + diffuse * lamp.r) + specular * lamp.r;
	out[1] = colour[1] * (lamp.ag + diffuse * lamp.g) + specular * lamp.g;
	out[2] = colour[2] * (lamp.ab + diffuse * lamp.b) + specular * lamp.b;
}

function paintBackground(canvas: Canvas, scene: LitScene): void {
	const { width, height, data } = canvas;
	const horizonY = scene.surface.horizon * height;
	const bg = scene.background;
	const lc = scene.light.colour;
	const glowX = (0.5 + scene.light.fromX * 0.35) * width;
	const glowY = height * 0.25;
	const glowR = max(width, height) * 0.55;
	const wall = mix(bg, [0, 0, 0], 0.15);
	const table = scene.surface.colour;
	const grain = randomFrom(`wood|${scene.seed}`);
	const phase = grain() * 8;
	// Each plank its own tone; planks converge on a vanishing point high above the table.
	const plankTone = Float32Array.from({ length: 32 }, () => 0.9 + grain() * 0.16);
	const vanishX = width * (0.5 + (grain() - 0.5) * 0.3);
	const vanishY = horizonY - height * 0.7;
	const plankWidth = 0.16;
	// Separable glow, so the loop below does no transcendental maths per pixel.
	const glowColumn = new Float32Array(width);
	for (let x = 0; x < width; x++) {
		const dx = (x - glowX) / glowR;
		glowColumn[x] = exp(-dx * dx * 2.2);
	}
	const tint = new Float32Array(3);
	for (let y = 0; y < height; y++) {
		const onTable = y >= horizonY;
		const tv = onTable ? (y - horizonY) / (height - horizonY) : y / horizonY;
		const dy = (y - glowY) / glowR;
		const glowRow = exp(-dy * dy * 2.2) * 0.45 * scene.light.strength;
		const depth = y - vanishY;
		const rowWobble = 0.12 * sin(y * 0.013 + phase);
		const base = onTable ? table : bg;
		for (let c = 0; c < 3; c++) tint[c] = onTable ? table[c] * (1.05 - tv * 0.25) : bg[c] + (wall[c] - bg[c]) * tv;
		const glowMix = onTable ? 0.3 : 0.4;
		const glowAdd = onTable ? 0.45 : 0.6;
		const r0 = tint[0], g0 = tint[1], b0 = tint[2];
		const lr = lc[0] * glowAdd * (base[0] / 255 * 0.5 + 0.5);
		const lg = lc[1] * glowAdd * (base[1] / 255 * 0.5 + 0.5);
		const lb = lc[2] * glowAdd * (base[2] / 255 * 0.5 + 0.5);
		const wood = onTable && scene.surface.wood;
		let i = y * width * 3;
		for (let x = 0; x < width; x++, i += 3) {
			const glow = glowRow * glowColumn[x];
			let shade = 1;
			if (wood) {
				// Planks running away from the viewer: a seam between planks, grain lines along them.
				const along = (x - vanishX) / depth / plankWidth + phase;
				const index = floor(along);
				const f = along - index;
				const seamPx = min(f, 1 - f) * plankWidth * depth;
				const lines = f * 9 + rowWobble;
				const grainLine = abs(lines - floor(lines) - 0.5);
				shade = plankTone[index & 31] * (0.95 + grainLine * 0.12) * (seamPx < 1.6 ? 0.62 + seamPx * 0.24 : 1);
			}
			const keep = shade * (1 - glow * glowMix);
			data[i] = r0 * keep + lr * glow;
			data[i + 1] = g0 * keep + lg * glow;
			data[i + 2] = b0 * keep + lb * glow;
		}
	}
	// The table's front edge catches the light.
	canvas.fill([0, horizonY - 2, width, horizonY + 2], (_x, y) => abs(y - horizonY) - 1, flat(mix(table, lc, 0.5)), 0.6);
	if (scene.setting === 'interior') {
		// A window on the light's side, blurred by the depth of field.
		const { offset, scale } = scene.window;
		const wx = (0.5 + scene.light.fromX * 0.3 + offset) * width;
		const ww = width * 0.26 * scale;
		const wh = horizonY * 0.62 * scale;
		const wy = horizonY * (0.1 + (1 - scale) * 0.3);
		const pane = mix(lc, [255, 255, 255], 0.5);
		canvas.fill([wx - ww / 2, wy, wx + ww / 2, wy + wh], boxSdf(wx - ww / 2, wy, wx + ww / 2, wy + wh, 6), flat(pane), 0.75, width * 0.02);
		const bar = max(3, width * 0.008);
		canvas.fill([wx - bar, wy, wx + bar, wy + wh], boxSdf(wx - bar, wy, wx + bar, wy + wh), flat(wall), 0.45, width * 0.01);
		canvas.fill([wx - ww / 2, wy + wh / 2 - bar, wx + ww / 2, wy + wh / 2 + bar], boxSdf(wx - ww / 2, wy + wh / 2 - bar, wx + ww / 2, wy + wh / 2 + bar), flat(wall), 0.45, width * 0.01);
	}
	const unit = min(width, height);
	for (const spot of scene.bokeh) {
		const cx = spot.x * width;
		const cy = spot.y * height;
		const r = spot.r * unit;
		canvas.fill([cx - r, cy - r, cx + r, cy + r], ellipseSdf(cx, cy, r, r), flat(mix(lc, [255, 255, 255], 0.4)), spot.alpha, r * 0.35);
	}
}

function paintShadow(canvas: Canvas, scene: LitScene, cx: number, baseY: number, halfWidth: number, height: number): void {
	const reach = -scene.light.fromX * height * 0.45;
	const rx = halfWidth * 1.15 + abs(reach) * 0.6;
	const ry = halfWidth * 0.22;
	const sx = cx + reach * 0.5;
	const dark = mix(scene.surface.colour, [0, 0, 0], 0.75);
	canvas.fill([sx - rx, baseY - ry, sx + rx, baseY + ry], ellipseSdf(sx, baseY, rx, ry), flat(dark), 0.5, ry * 1.4);
	// Contact shadow right under the base.
	canvas.fill([cx - halfWidth, baseY - ry * 0.4, cx + halfWidth, baseY + ry * 0.4], ellipseSdf(cx, baseY, halfWidth * 1.02, ry * 0.35), flat(dark), 0.55, ry * 0.35);
}

/** A cylinder seen slightly from above: body, base curve, rim and (for mugs) handle and drink. */
function paintCylinder(canvas: Canvas, scene: LitScene, cx: number, baseY: number, rx: number, h: number, mug: boolean): void {
	const s = scene.subject;
	const ry = rx * 0.26;
	const top = baseY - h;
	if (mug) {
		const hcx = cx + s.handleSide * rx;
		const hcy = top + h * 0.45;
		const R = h * 0.26;
		const t = rx * 0.13;
		const ring = (x: number, y: number) => {
			const along = s.handleSide * (x - cx) - rx * 0.85;
			return max(abs(hypot((x - hcx) * 1.15, y - hcy) - R) - t, -along);
		};
		canvas.fill([hcx - R - t, hcy - R - t, hcx + R + t, hcy + R + t], ring, (x, y, out) => {
			const ax = (x - hcx) / (R + t);
			const ay = (y - hcy) / (R + t);
			lit(scene.lamp, s.colour, ax * 0.8, ay * 0.8, 0.6, s.glossy, out);
		});
	}
	const body = boxSdf(cx - rx, top, cx + rx, baseY);
	const bottom = ellipseSdf(cx, baseY, rx, ry);
	canvas.fill([cx - rx, top, cx + rx, baseY + ry], (x, y) => min(body(x, y), bottom(x, y)), (x, y, out) => {
		const nx = max(-1, min(1, (x - cx) / rx));
		lit(scene.lamp, s.colour, nx, 0, sqrt(1 - nx * nx), s.glossy, out);
		// Darker towards the base, where the table occludes the light.
		const occlusion = 1 - 0.22 * max(0, (y - (baseY - h * 0.2)) / (h * 0.2 + ry));
		out[0] *= occlusion;
		out[1] *= occlusion;
		out[2] *= occlusion;
	});
	const rim = mix(s.colour, [255, 255, 255], 0.25);
	canvas.fill([cx - rx, top - ry, cx + rx, top + ry], ellipseSdf(cx, top, rx, ry), (x, _y, out) => {
		const nx = (x - cx) / rx;
		lit(scene.lamp, rim, nx * 0.5, -0.8, 0.4, s.glossy, out);
	});
	const inner: Rgb = s.filled ? [70, 42, 24] : mix(s.colour, [0, 0, 0], 0.45);
	canvas.fill([cx - rx, top - ry, cx + rx, top + ry], ellipseSdf(cx, top, rx * 0.9, ry * 0.82), (x, y, out) => {
		const shade = 0.75 + 0.35 * ((x - cx) / rx) * scene.light.fromX + 0.2 * ((y - top) / ry);
		out[0] = inner[0] * shade;
		out[1] = inner[1] * shade;
		out[2] = inner[2] * shade;
	});
	if (s.filled) {
		// Crema highlight on the drink.
		canvas.fill([cx - rx, top - ry, cx + rx, top + ry], ellipseSdf(cx - scene.light.fromX * rx * 0.3, top - ry * 0.1, rx * 0.35, ry * 0.25), flat([196, 150, 104]), 0.5, ry * 0.3);
	}
}

function paintBottle(canvas: Canvas, scene: LitScene, cx: number, baseY: number, rx: number, h: number): void {
	const s = scene.subject;
	const shoulder = baseY - h * 0.68;
	const neckW = rx * 0.34;
	const neckTop = baseY - h;
	const cylinder = (colour: Rgb, halfWidth: number) => (x: number, _y: number, out: Rgb) => {
		const nx = max(-1, min(1, (x - cx) / halfWidth));
		lit(scene.lamp, colour, nx, 0, sqrt(1 - nx * nx), true, out);
	};
	const body = boxSdf(cx - rx, shoulder, cx + rx, baseY, rx * 0.18);
	const shoulderCurve = ellipseSdf(cx, shoulder + rx * 0.05, rx, rx * 0.55);
	const neck = boxSdf(cx - neckW, neckTop + h * 0.08, cx + neckW, shoulder);
	canvas.fill([cx - rx, neckTop, cx + rx, baseY], (x, y) => min(body(x, y), shoulderCurve(x, y), neck(x, y)), cylinder(s.colour, rx));
	canvas.fill([cx - neckW * 1.15, neckTop, cx + neckW * 1.15, neckTop + h * 0.1], boxSdf(cx - neckW * 1.15, neckTop, cx + neckW * 1.15, neckTop + h * 0.1, 3), cylinder([40, 40, 44], neckW * 1.15));
	// A label band.
	const labelTop = baseY - h * 0.5;
	const labelBottom = baseY - h * 0.2;
	canvas.fill([cx - rx, labelTop, cx + rx, labelBottom], boxSdf(cx - rx + 1, labelTop, cx + rx - 1, labelBottom), cylinder(COLOURS.cream, rx), 0.92);
}

function paintBox(canvas: Canvas, scene: LitScene, cx: number, baseY: number, half: number, h: number, colour: Rgb): void {
	const depth = half * 0.45;
	const side = scene.light.fromX <= 0 ? 1 : -1; // show the side facing away from the light
	const x0 = cx - half;
	const x1 = cx + half;
	const top = baseY - h;
	const faceShade = (nx: number, ny: number, nz: number) => (_x: number, _y: number, out: Rgb) => lit(scene.lamp, colour, nx, ny, nz, scene.subject.glossy, out);
	const sideX = side > 0 ? x1 : x0;
	const sideFace = (x: number, y: number) => {
		const u = (x - sideX) * side;
		const lift = (u / depth) * depth * 0.6;
		return max(-u, u - depth, top - lift - y, y - (baseY - lift));
	};
	canvas.fill([min(sideX, sideX + side * depth), top - depth, max(sideX, sideX + side * depth), baseY], sideFace, faceShade(side * 0.75, 0, 0.66));
	const topFace = (x: number, y: number) => {
		const v = top - y;
		const shift = (v / (depth * 0.6)) * depth * side;
		return max(-v, v - depth * 0.6, x0 + shift - x, x - (x1 + shift));
	};
	canvas.fill([x0 - depth, top - depth, x1 + depth, top], topFace, faceShade(side * 0.2, -0.95, 0.25));
	canvas.fill([x0, top, x1, baseY], boxSdf(x0, top, x1, baseY), faceShade(0, 0, 1));
}

function paintSphere(canvas: Canvas, scene: LitScene, cx: number, baseY: number, r: number, colour: Rgb): void {
	const cy = baseY - r;
	canvas.fill([cx - r, cy - r, cx + r, cy + r], ellipseSdf(cx, cy, r, r), (x, y, out) => {
		const nx = (x - cx) / r;
		const ny = (y - cy) / r;
		lit(scene.lamp, colour, nx, ny, sqrt(max(0, 1 - nx * nx - ny * ny)), scene.subject.glossy, out);
	});
}

function paintVase(canvas: Canvas, scene: LitScene, cx: number, baseY: number, rx: number, h: number): void {
	const s = scene.subject;
	// Half-width along the height: a belly low down, a narrow neck, a flared lip.
	const profile = (t: number) => rx * (0.55 + 0.45 * sin(PI * min(1, t * 1.35)) ** 0.8 - (t > 0.78 ? 0 : 0) + (t > 0.88 ? (t - 0.88) * 2.2 : 0));
	const top = baseY - h;
	canvas.fill([cx - rx * 1.1, top, cx + rx * 1.1, baseY], (x, y) => {
		const t = (baseY - y) / h;
		if (t < 0 || t > 1) return max(-t, t - 1) * h;
		return abs(x - cx) - profile(t);
	}, (x, y, out) => {
		const w = profile((baseY - y) / h);
		const nx = max(-1, min(1, (x - cx) / w));
		lit(scene.lamp, s.colour, nx, 0, sqrt(1 - nx * nx), s.glossy, out);
	});
	canvas.fill([cx - rx, top - rx * 0.1, cx + rx, top + rx * 0.1], ellipseSdf(cx, top, profile(1), rx * 0.08), flat(mix(s.colour, [0, 0, 0], 0.5)));
}

function paintObjects(canvas: Canvas, scene: LitScene): void {
	const { width, height } = canvas;
	const unit = min(width, height);
	const horizonY = scene.surface.horizon * height;
	const tableDepth = height - horizonY;
	for (const extra of scene.extras) {
		const r = extra.size * unit * 0.5;
		const cx = extra.x * width;
		const baseY = horizonY + tableDepth * 0.3;
		paintShadow(canvas, scene, cx, baseY, r, r * 2);
		if (extra.kind === 'box') paintBox(canvas, scene, cx, baseY, r, r * 1.6, extra.colour);
		else paintSphere(canvas, scene, cx, baseY, r, extra.colour);
	}
	const s = scene.subject;
	const h = s.size * unit * 1.15;
	const cx = s.x * width;
	const baseY = min(height - h * 0.12, horizonY + tableDepth * 0.55);
	const rx = s.kind === 'mug' ? h * 0.42 : s.kind === 'bottle' ? h * 0.24 : s.kind === 'box' ? h * 0.38 : s.kind === 'sphere' ? h * 0.45 : h * 0.3;
	paintShadow(canvas, scene, cx, baseY, rx, h);
	if (s.kind === 'mug') paintCylinder(canvas, scene, cx, baseY, rx, h * 0.85, true);
	else if (s.kind === 'bottle') paintBottle(canvas, scene, cx, baseY, rx, h);
	else if (s.kind === 'box') paintBox(canvas, scene, cx, baseY, rx, h * 0.75, s.colour);
	else if (s.kind === 'sphere') paintSphere(canvas, scene, cx, baseY, rx, s.colour);
	else paintVase(canvas, scene, cx, baseY, rx, h);
}

// ---------- caption: a 5x7 bitmap font of our own ----------

const GLYPHS: Record<string, string> = {
	A: '.###. #...# #...# ##### #...# #...# #...#',
	B: '####. #...# #...# ####. #...# #...# ####.',
	C: '.###. #...# #.... #.... #.... #...# .###.',
	D: '####. #...# #...# #...# #...# #...# ####.',
	E: '##### #.... #.... ####. #.... #.... #####',
	F: '##### #.... #.... ####. #.... #.... #....',
	G: '.###. #...# #.... #.### #...# #...# .####',
	H: '#...# #...# #...# ##### #...# #...# #...#',
	I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
	J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
	K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
	L: '#.... #.... #.... #.... #.... #.... #####',
	M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
	N: '#...# #...# ##..# #.#.# #..## #...# #...#',
	O: '.###. #...# #...# #...# #...# #...# .###.',
	P: '####. #...# #...# ####. #.... #.... #....',
	Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
	R: '####. #...# #...# ####. #.#.. #..#. #...#',
	S: '.#### #.... #.... .###. ....# ....# ####.',
	T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
	U: '#...# #...# #...# #...# #...# #...# .###.',
	V: '#...# #...# #...# #...# #...# .#.#. ..#..',
	W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
	X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
	Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
	Z: '##### ....# ...#. ..#.. .#... #.... #####',
	'0': '.###. #...# #..## #.#.# ##..# #...# .###.',
	'1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
	'2': '.###. #...# ....# ...#. ..#.. .#... #####',
	'3': '####. ....# ....# .###. ....# ....# ####.',
	'4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
	'5': '##### #.... ####. ....# ....# #...# .###.',
	'6': '.###. #.... #.... ####. #...# #...# .###.',
	'7': '##### ....# ...#. ..#.. .#... .#... .#...',
	'8': '.###. #...# #...# .###. #...# #...# .###.',
	'9': '.###. #...# #...# .#### ....# ....# .###.',
	'.': '..... ..... ..... ..... ..... .##.. .##..',
	',': '..... ..... ..... ..... .##.. ..#.. .#...',
	':': '..... .##.. .##.. ..... .##.. .##.. .....',
	';': '..... .##.. .##.. ..... .##.. ..#.. .#...',
	"'": '..#.. ..#.. .#... ..... ..... ..... .....',
	'"': '.#.#. .#.#. ..... ..... ..... ..... .....',
	'-': '..... ..... ..... .###. ..... ..... .....',
	'!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
	'?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
	'(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
	')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
	'/': '....# ....# ...#. ..#.. .#... #.... #....',
	'&': '.##.. #..#. #.#.. .#... #.#.# #..#. .##.#',
	'+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
	'%': '##..# ##..# ...#. ..#.. .#... #..## #..##',
	'=': '..... ..... ##### ..... ##### ..... .....',
	'_': '..... ..... ..... ..... ..... ..... #####',
};

/** The glyph's 35 cells, row by row ('#' = ink); lower case shares the capitals, unknown characters show '?'. */
function glyph(char: string): string {
	if (char === ' ') return '';
	return (GLYPHS[char.toUpperCase()] ?? GLYPHS['?']).replace(/ /g, '');
}

/** Lines of at most `perLine` characters, broken at spaces; at most `maxLines`, the last one ellipsised. */
export function wrapCaption(caption: string, perLine: number, maxLines: number): string[] {
	const lines: string[] = [];
	let line = '';
	for (const word of caption.split(' ')) {
		const next = line ? `${line} ${word}` : word;
		if (next.length <= perLine) line = next;
		else {
			if (line) lines.push(line);
			line = word.slice(0, perLine);
		}
	}
	if (line) lines.push(line);
	if (lines.length <= maxLines) return lines;
	const kept = lines.slice(0, maxLines);
	kept[maxLines - 1] = `${kept[maxLines - 1].slice(0, perLine - 3)}...`;
	return kept;
}

function paintCaption(canvas: Canvas, caption: string): void {
	if (!caption) return;
	const { width, height } = canvas;
	const scale = max(2, round(width / 380));
	const advance = 6 * scale;
	const margin = round(width * 0.04);
	const lines = wrapCaption(caption, floor((width - 2 * margin) / advance), 4);
	const lineHeight = 10 * scale;
	const bandTop = height - lines.length * lineHeight - 2 * margin * 0.6;
	canvas.fill([0, bandTop, width, height], (_x, y) => bandTop - y, flat([12, 14, 20]), 0.5);
	lines.forEach((line, row) => letter(canvas, line, margin, round(bandTop + margin * 0.6 + row * lineHeight), scale, [246, 244, 238]));
}

/** `line` in the bitmap font, `scale` pixels per dot, its top-left corner at (left, top). */
function letter(canvas: Canvas, line: string, left: number, top: number, scale: number, colour: Rgb): void {
	const { width, height, data } = canvas;
	for (let k = 0; k < line.length; k++) {
		const bits = glyph(line[k]);
		const x0 = left + k * 6 * scale;
		for (let gy = 0; gy < 7; gy++)
			for (let gx = 0; gx < 5; gx++) {
				if (bits[gy * 5 + gx] !== '#') continue;
				for (let py = 0; py < scale; py++)
					for (let px = 0; px < scale; px++) {
						const x = x0 + gx * scale + px;
						const y = top + gy * scale + py;
						if (x < 0 || y < 0 || x >= width || y >= height) continue;
						const i = (y * width + x) * 3;
						data[i] = colour[0];
						data[i + 1] = colour[1];
						data[i + 2] = colour[2];
					}
			}
	}
}

/** text_render entries: lettering placed where the structured prompt says, with a soft shadow. */
function paintTexts(canvas: Canvas, scene: Scene): void {
	const { width, height } = canvas;
	for (const entry of scene.texts) {
		// As large as asked, but never wider than the picture's margins.
		const scale = max(1, min(round((width / 200) * entry.scale), floor((width * 0.88) / (entry.text.length * 6))));
		const textWidth = entry.text.length * 6 * scale - scale;
		const left = round(min(max(entry.x * width - (entry.x === 0.5 ? textWidth / 2 : entry.x > 0.5 ? textWidth : 0), 0), max(0, width - textWidth)));
		const top = round(entry.y * height);
		const dark = entry.colour[0] + entry.colour[1] + entry.colour[2] < 300;
		letter(canvas, entry.text, left + max(1, scale >> 1), top + max(1, scale >> 1), scale, dark ? [236, 232, 222] : [20, 20, 24]);
		letter(canvas, entry.text, left, top, scale, entry.colour);
	}
}

// ---------- PNG ----------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG chunk as its three parts (length and type, body, CRC), for one concat of the whole file. */
function chunk(type: string, body: Buffer): Buffer[] {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(body.length, 0);
	head.write(type, 4, 'ascii');
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body, crc32(head.subarray(4))) >>> 0);
	return [head, body, crc];
}

let scratchRows = Buffer.alloc(0);

/** Like the pixel scratch: one buffer for the filtered rows, which deflate reads synchronously. */
function rowsScratch(length: number): Buffer {
	if (scratchRows.length < length) scratchRows = Buffer.allocUnsafe(length);
	return scratchRows.subarray(0, length);
}

/**
 * Vignette, film grain and 8-bit rows. The grain is what makes the file weigh like a photograph
 * (real results are 1.5-2 MB at 1024 px): flat synthetic colour would compress to a few kB.
 */
function encode(canvas: Canvas, scene: LitScene): Buffer {
	const { width, height, data } = canvas;
	const rowLength = 1 + width * 3;
	const raw = rowsScratch(rowLength * height); // every byte is written below
	let state = (scene.seed >>> 0) ^ 0x2545f491 || 1;
	// Vignette 1 - k·(dx² + dy²): a column term and a row term.
	const reach = (width * width + height * height) / 4;
	const vignetteColumn = new Float32Array(width);
	for (let x = 0; x < width; x++) vignetteColumn[x] = (scene.vignette * (x - width / 2) ** 2) / reach;
	for (let y = 0; y < height; y++) {
		const row = y * rowLength;
		// Filter "Sub" (each byte minus the one to its left): a photo's bytes then cost ~5 bits, like a real PNG.
		raw[row] = 1;
		const rowVignette = 1 - (scene.vignette * (y - height / 2) ** 2) / reach;
		let i = y * width * 3;
		let o = row + 1;
		let pr = 0;
		let pg = 0;
		let pb = 0;
		for (let x = 0; x < width; x++, i += 3, o += 3) {
			const v = rowVignette - vignetteColumn[x];
			state ^= state << 13;
			state ^= state >>> 17;
			state ^= state << 5;
			const noise = ((state & 0xff) - 127.5) * 0.07;
			let r = data[i] * v + noise;
			let g = data[i + 1] * v + noise;
			let b = data[i + 2] * v + noise;
			r = r < 0 ? 0 : r > 255 ? 255 : r | 0;
			g = g < 0 ? 0 : g > 255 ? 255 : g | 0;
			b = b < 0 ? 0 : b > 255 ? 255 : b | 0;
			raw[o] = (r - pr) & 255;
			raw[o + 1] = (g - pg) & 255;
			raw[o + 2] = (b - pb) & 255;
			pr = r;
			pg = g;
			pb = b;
		}
	}
	const header = Buffer.alloc(13);
	header.writeUInt32BE(width, 0);
	header.writeUInt32BE(height, 4);
	header[8] = 8; // bit depth
	header[9] = 2; // truecolour
	return Buffer.concat([
		PNG_SIGNATURE,
		...chunk('IHDR', header),
		// Huffman only: grain leaves deflate few matches to find, and searching for them doubled the time.
		// One output chunk the size of the input spares zlib gathering many small ones.
		...chunk('IDAT', deflateSync(raw, { strategy: constants.Z_HUFFMAN_ONLY, memLevel: 9, chunkSize: max(64 * 1024, raw.length + 4096) })),
		...chunk('IEND', Buffer.alloc(0)),
	]);
}

/** The picture for a structured prompt (JSON text, as Bria returns it) and a seed, as PNG bytes. */
export function renderPicture(structuredPrompt: string, seed: number, size: { width: number; height: number }): Buffer {
	let parsed: Record<string, unknown> = {};
	try {
		parsed = record(JSON.parse(structuredPrompt));
	} catch {
		// a plan may override the result with text that is not JSON: still a picture, from defaults
	}
	const plan = sceneOf(parsed, seed);
	const scene: LitScene = { ...plan, lamp: lampOf(plan) };
	const canvas = new Canvas(size.width, size.height);
	paintBackground(canvas, scene);
	paintObjects(canvas, scene);
	paintTexts(canvas, scene);
	paintCaption(canvas, scene.caption);
	return encode(canvas, scene);
}

/** Pixels of an 8-bit RGB, non-interlaced PNG (what `renderPicture` writes); throws on anything else. */
export function decodePng(png: Buffer): { width: number; height: number; rgb: Buffer } {
	if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
	const width = png.readUInt32BE(16);
	const height = png.readUInt32BE(20);
	if (png[24] !== 8 || png[25] !== 2 || png[28] !== 0) throw new Error('only 8-bit RGB, non-interlaced PNGs are supported');
	const parts: Buffer[] = [];
	for (let at = 8; at < png.length; ) {
		const length = png.readUInt32BE(at);
		if (png.toString('ascii', at + 4, at + 8) === 'IDAT') parts.push(png.subarray(at + 8, at + 8 + length));
		at += length + 12;
	}
	const raw = inflateSync(Buffer.concat(parts));
	const stride = width * 3;
	const rgb = Buffer.alloc(stride * height);
	for (let y = 0; y < height; y++) {
		const filter = raw[y * (stride + 1)];
		const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
		const out = y * stride;
		for (let i = 0; i < stride; i++) {
			const left = i >= 3 ? rgb[out + i - 3] : 0;
			const up = y > 0 ? rgb[out - stride + i] : 0;
			const upLeft = y > 0 && i >= 3 ? rgb[out - stride + i - 3] : 0;
			let predictor = 0;
			if (filter === 1) predictor = left;
			else if (filter === 2) predictor = up;
			else if (filter === 3) predictor = (left + up) >> 1;
			else if (filter === 4) {
				const p = left + up - upLeft;
				const pa = abs(p - left);
				const pb = abs(p - up);
				const pc = abs(p - upLeft);
				predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
			}
			rgb[out + i] = (line[i] + predictor) & 0xff;
		}
	}
	return { width, height, rgb };
}

/** RGB pixels as a PNG, compressed hard (for small copies in docs, not for the simulator's speed). */
export function encodeRgbPng(width: number, height: number, rgb: Buffer): Buffer {
	const stride = width * 3;
	const raw = Buffer.alloc((stride + 1) * height);
	for (let y = 0; y < height; y++) {
		raw[y * (stride + 1)] = 1; // Sub
		for (let i = 0; i < stride; i++) raw[y * (stride + 1) + 1 + i] = rgb[y * stride + i] - (i >= 3 ? rgb[y * stride + i - 3] : 0);
	}
	const header = Buffer.alloc(13);
	header.writeUInt32BE(width, 0);
	header.writeUInt32BE(height, 4);
	header[8] = 8;
	header[9] = 2;
	return Buffer.concat([PNG_SIGNATURE, ...chunk('IHDR', header), ...chunk('IDAT', deflateSync(raw, { level: 9 })), ...chunk('IEND', Buffer.alloc(0))]);
}

/** A copy `factor` times smaller on each side, each pixel the mean of the block it covers. */
export function shrinkPng(png: Buffer, factor: number): Buffer {
	const source = decodePng(png);
	const width = floor(source.width / factor);
	const height = floor(source.height / factor);
	const rgb = Buffer.alloc(width * height * 3);
	const area = factor * factor;
	for (let y = 0; y < height; y++)
		for (let x = 0; x < width; x++)
			for (let c = 0; c < 3; c++) {
				let sum = 0;
				for (let dy = 0; dy < factor; dy++)
					for (let dx = 0; dx < factor; dx++) sum += source.rgb[((y * factor + dy) * source.width + x * factor + dx) * 3 + c];
				rgb[(y * width + x) * 3 + c] = round(sum / area);
			}
	return encodeRgbPng(width, height, rgb);
}
