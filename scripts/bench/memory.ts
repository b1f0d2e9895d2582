/**
 * Part 5: peak RSS of the node's process while 50 result images are downloaded into binary data
 * (downloadImage on, default concurrency). The simulator runs in its own process and draws real
 * 1024 px pictures (about 1-2 MB each, like Bria's results); BENCH_IMAGE_BYTES pads each PNG to
 * at least that size, to measure heavier images. RSS is sampled
 * every 20 ms; the kernel's high-water mark (resourceUsage().maxRSS) is reported alongside.
 * n8n's binary-data mode comes from N8N_DEFAULT_BINARY_DATA_MODE (bench.ts runs each mode).
 */
import { option } from '../../nodes/BriaTailored/actions/shared/fields';
import { binaryBuffer, runBriaNode } from '../../test/harness/runNode';
import type { RunResult } from '../../test/harness/runNode';
import { failedItems, generateImages, inputItems, progress, sleep } from './common';
import { SimProcess } from './simClient';
import type { MemoryResult } from './types';

/** The binary-data modes measured, each in its own process (n8n reads the mode once, at start). */
export const BINARY_MODES = ['filesystem', 'default'];

const IMAGES = 50;
const JOB_MS = 1_000;
const SAMPLE_EVERY_MS = 20;
const RUN_LIMIT_MS = 3 * 60_000;

function gc(): void {
	(globalThis as { gc?: () => void }).gc?.();
}

async function settle(): Promise<void> {
	gc();
	await sleep(200);
	gc();
}

export async function measureMemory(): Promise<MemoryResult> {
	const imageBytes = Number(process.env.BENCH_IMAGE_BYTES ?? 0);
	const sim = await SimProcess.start({ jobMs: JOB_MS, imageBytes });
	try {
		const credentials = sim.credentials;
		progress(`memory: ${IMAGES} images ${imageBytes ? `padded to ${(imageBytes / 1e6).toFixed(1)} MB` : 'as the simulator draws them'} downloaded, default concurrency`);
		// Warm-up: loads and JITs everything a run touches, so the baseline is a process ready to work.
		const warmUp = await runBriaNode({ credentials, parameters: generateImages('bench memory warm-up', {}) });
		if (failedItems(warmUp, 1)) throw new Error(`memory: warm-up failed: ${warmUp.error?.message ?? JSON.stringify(warmUp.items[0]?.json)}`);
		const size = (await binaryBuffer(warmUp.items[0])).length;
		if (size < imageBytes) throw new Error(`memory: the simulator served ${size} bytes, expected ≥ ${imageBytes}`);
		await settle();

		const baselineRss = process.memoryUsage().rss;
		const peak = { rss: baselineRss, heapUsed: 0, arrayBuffers: 0, external: 0 };
		const sample = () => {
			const usage = process.memoryUsage();
			peak.rss = Math.max(peak.rss, usage.rss);
			peak.heapUsed = Math.max(peak.heapUsed, usage.heapUsed);
			peak.arrayBuffers = Math.max(peak.arrayBuffers, usage.arrayBuffers);
			peak.external = Math.max(peak.external, usage.external);
		};
		const sampler = setInterval(sample, SAMPLE_EVERY_MS);
		let result: RunResult | undefined;
		try {
			result = await runBriaNode({
				credentials,
				items: inputItems(IMAGES),
				continueOnFail: true,
				cancelAfterMs: RUN_LIMIT_MS,
				parameters: generateImages('bench memory', {}),
			});
		} finally {
			clearInterval(sampler);
		}
		sample();
		const failed = failedItems(result, IMAGES);
		// What each stored image weighs: n8n records its bytes (filesystem mode) or holds it as base64 (default mode).
		const storedBytes = result.items.map((item) => {
			const data = item.binary?.data;
			return data ? (data.bytes ?? (data.id ? NaN : Buffer.byteLength(data.data, 'base64'))) : 0;
		});
		const totalStored = storedBytes.reduce((sum, bytes) => sum + bytes, 0);
		// A stored file's id is "<mode>:<file>"; without an id the bytes sit in the item as base64.
		const binary = result.items.find((item) => item.binary)?.binary?.data;
		const binaryMode = binary ? (binary.id ? binary.id.split(':')[0] : 'default (in memory)') : 'unknown';
		const wallMs = result.durationMs;
		// Output items still referenced, as the next node in a workflow would hold them.
		await settle();
		const rssWithResults = process.memoryUsage().rss;
		result = undefined;
		await settle();
		const rssAfterRelease = process.memoryUsage().rss;
		const downloads = (await sim.log()).jobs.filter((job) => job.prompt === 'bench memory').reduce((sum, job) => sum + job.downloads, 0);
		const downloadedBytes = Number.isFinite(totalStored) && totalStored > 0 ? totalStored : downloads * size;
		progress(`memory: peak RSS ${(peak.rss / 1e6).toFixed(0)} MB (baseline ${(baselineRss / 1e6).toFixed(0)} MB)`);
		return {
			rows: [
				{
					binaryMode,
					images: IMAGES,
					imageBytes: Math.round(downloadedBytes / Math.max(1, downloads)),
					paddedTo: imageBytes || undefined,
					concurrency: Number(option.concurrency.default),
					failed,
					wallMs,
					baselineRss,
					peakRss: peak.rss,
					maxRss: process.resourceUsage().maxRSS * 1024,
					peakHeapUsed: peak.heapUsed,
					peakArrayBuffers: peak.arrayBuffers,
					peakExternal: peak.external,
					rssWithResults,
					rssAfterRelease,
					downloadedBytes,
				},
			],
		};
	} finally {
		await sim.stop();
	}
}
