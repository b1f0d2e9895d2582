/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON probed field by field */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BriaSimulator, fiboStructuredPrompt, padPng, pngDimensions } from './BriaSimulator';
import { colourOf, decodePng, pictureSize, renderPicture, sceneOf, shrinkPng, wrapCaption } from './picture';

type Pixels = ReturnType<typeof decodePng>;

/** Mean colour of a rectangle given in fractions of the picture. */
function meanColour(image: Pixels, x0: number, y0: number, x1: number, y1: number): [number, number, number] {
	const sum = [0, 0, 0];
	let count = 0;
	for (let y = Math.floor(y0 * image.height); y < Math.floor(y1 * image.height); y++)
		for (let x = Math.floor(x0 * image.width); x < Math.floor(x1 * image.width); x++) {
			for (let c = 0; c < 3; c++) sum[c] += image.rgb[(y * image.width + x) * 3 + c];
			count++;
		}
	return sum.map((v) => Math.round(v / count)) as [number, number, number];
}

/** Share of pixels whose colour differs by more than `threshold` on some channel. */
function changedShare(a: Pixels, b: Pixels, threshold = 40): number {
	let changed = 0;
	for (let i = 0; i < a.rgb.length; i += 3)
		if (Math.max(Math.abs(a.rgb[i] - b.rgb[i]), Math.abs(a.rgb[i + 1] - b.rgb[i + 1]), Math.abs(a.rgb[i + 2] - b.rgb[i + 2])) > threshold) changed++;
	return changed / (a.rgb.length / 3);
}

describe('picture size', () => {
	it('is 1024 px on the long side, the short side per aspect ratio', () => {
		expect(pictureSize('1:1')).toEqual({ width: 1024, height: 1024 });
		expect(pictureSize('16:9')).toEqual({ width: 1024, height: 576 });
		expect(pictureSize('9:16')).toEqual({ width: 576, height: 1024 });
		expect(pictureSize('4:5')).toEqual({ width: 819, height: 1024 });
		expect(pictureSize('3:2', 512)).toEqual({ width: 512, height: 341 });
		expect(pictureSize('nonsense')).toEqual({ width: 1024, height: 1024 });
	});
});

describe('renderPicture', () => {
	const sp = fiboStructuredPrompt('Our ceramic coffee mug on a wooden table, brand product shot', 42);
	const text = JSON.stringify(sp);
	const png = renderPicture(text, 42, pictureSize('4:5'));

	it('draws a PNG that weighs like a real result and is not a flat colour', () => {
		expect(pngDimensions(png)).toEqual({ width: 819, height: 1024 });
		expect(png.length).toBeGreaterThan(900_000);
		expect(png.length).toBeLessThan(2_500_000);
		const image = decodePng(png);
		const colours = new Set<number>();
		for (let i = 0; i < image.rgb.length; i += 3 * 97) colours.add((image.rgb[i] << 16) | (image.rgb[i + 1] << 8) | image.rgb[i + 2]);
		expect(colours.size).toBeGreaterThan(1000);
		// The wall above the table is lighter than the wooden table below it.
		const wall = meanColour(image, 0, 0.05, 1, 0.4);
		const table = meanColour(image, 0, 0.72, 0.2, 0.85);
		expect(wall[0] + wall[1] + wall[2]).toBeGreaterThan(table[0] + table[1] + table[2] + 60);
	});

	it('gives the same bytes for the same structured prompt and seed, however the JSON is spaced', () => {
		expect(renderPicture(JSON.stringify(sp, null, 2), 42, pictureSize('4:5')).equals(png)).toBe(true);
	});

	it('lays the scene out anew for another seed, keeping its look', () => {
		const other = sceneOf(sp, 43);
		const scene = sceneOf(sp, 42);
		expect(other.subject.x).not.toBeCloseTo(scene.subject.x, 2);
		expect(other.background).toEqual(scene.background);
		expect(other.subject.colour).toEqual(scene.subject.colour);
		expect(changedShare(decodePng(png), decodePng(renderPicture(text, 43, pictureSize('4:5'))))).toBeGreaterThan(0.05);
	});

	it('captions the picture with the short description', () => {
		const image = decodePng(png);
		// Light letters on a dark band along the bottom.
		let ink = 0;
		let band = 0;
		for (let y = Math.floor(image.height * 0.92); y < image.height; y++)
			for (let x = 0; x < image.width; x++) {
				const red = image.rgb[(y * image.width + x) * 3];
				if (red > 170) ink++;
				else if (red < 90) band++;
			}
		expect(ink).toBeGreaterThan(2000);
		expect(band).toBeGreaterThan(ink * 3);
		expect(sceneOf(sp, 42).caption).toBe(sp.short_description);
	});

	it('letters text_render entries where they are placed, in their colour', () => {
		const size = { width: 410, height: 512 };
		const plain = decodePng(renderPicture(text, 42, size));
		const withText = { ...sp, text_render: [{ text: 'Morning Ritual', location: 'top center', size: 'large', color: 'deep navy', font: 'sans', appearance_details: '' }] };
		const lettered = decodePng(renderPicture(JSON.stringify(withText), 42, size));
		let navy = 0;
		for (let y = 0; y < size.height * 0.2; y++)
			for (let x = 0; x < size.width; x++) {
				const i = (y * size.width + x) * 3;
				if (lettered.rgb[i + 2] > lettered.rgb[i] + 10 && lettered.rgb[i] < 60) navy++;
			}
		expect(navy).toBeGreaterThan(500);
		// Only the lettering changed: the rest of the picture is the same.
		expect(changedShare(plain, lettered)).toBeGreaterThan(0.005);
		expect(changedShare(plain, lettered)).toBeLessThan(0.1);
	});

	it('still draws a picture from text that is not JSON', () => {
		expect(pngDimensions(renderPicture('not json', 1, { width: 64, height: 48 }))).toEqual({ width: 64, height: 48 });
	});

	it('can be padded to a fixed weight and stays readable', () => {
		const small = renderPicture(text, 42, { width: 128, height: 128 });
		const padded = padPng(small, 3_000_000, 42);
		expect(padded.length).toBeGreaterThanOrEqual(3_000_000);
		expect(decodePng(padded).rgb.equals(decodePng(small).rgb)).toBe(true);
	});

	it('shrinks into small copies for the docs', () => {
		const half = shrinkPng(png, 2);
		expect(pngDimensions(half)).toEqual({ width: 409, height: 512 });
		expect(half.length).toBeLessThan(png.length / 2);
	});
});

describe('reading the structured prompt', () => {
	it('takes colours from the clause that names the thing', () => {
		expect(colourOf('a red teapot on a wooden table', /table/)).toEqual(colourOf('wooden'));
		expect(colourOf('a red teapot on a table', /table/)).toBeUndefined();
		expect(colourOf('Make the background a deep ocean blue', /background/)).toEqual(expect.arrayContaining([expect.any(Number)]));
		const [r, g, b] = colourOf('Make the background a deep ocean blue', /background/)!;
		expect(b).toBeGreaterThan(r + 40);
		expect(b).toBeGreaterThan(g);
		expect(colourOf('a calm mood')).toBeUndefined();
	});

	it('wraps the caption at spaces into at most the given lines', () => {
		expect(wrapCaption('one two three four', 9, 3)).toEqual(['one two', 'three', 'four']);
		expect(wrapCaption('one two three four five six', 9, 2)).toEqual(['one two', 'three...']);
	});
});

describe('through the simulator: generate, refine, recreate', () => {
	let sim: BriaSimulator;
	beforeAll(async () => {
		sim = await BriaSimulator.start({ token: 't', jobMs: 10 });
	});
	afterAll(async () => {
		await sim.stop();
	});

	async function run(body: Record<string, unknown>): Promise<{ result: any; png: Buffer }> {
		const submit = await fetch(`${sim.baseUrl}/v2/image/generate/tailored`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', api_token: 't' },
			body: JSON.stringify({ tailored_model_id: '101', sync: true, ...body }),
		});
		const { result } = (await submit.json()) as any;
		const image = await fetch(result.image_url);
		return { result, png: Buffer.from(await image.arrayBuffer()) };
	}

	it('recreate gives identical bytes; refine changes the picture where the instruction says', async () => {
		const generated = await run({ prompt: 'Our ceramic coffee mug on a wooden table', seed: 5, aspect_ratio: '4:5' });
		const recreated = await run({ structured_prompt: generated.result.structured_prompt, seed: 5, aspect_ratio: '4:5' });
		expect(recreated.png.equals(generated.png)).toBe(true);

		const refined = await run({ structured_prompt: generated.result.structured_prompt, prompt: 'Make the background a deep ocean blue', seed: 5, aspect_ratio: '4:5' });
		const before = decodePng(generated.png);
		const after = decodePng(refined.png);
		expect(changedShare(before, after)).toBeGreaterThan(0.3);
		const [r, g, b] = meanColour(after, 0.02, 0.02, 0.3, 0.3);
		expect(b).toBeGreaterThan(r + 40);
		expect(b).toBeGreaterThan(g + 20);
		const [r0, , b0] = meanColour(before, 0.02, 0.02, 0.3, 0.3);
		expect(b0 - r0).toBeLessThan(40);
	});
});
