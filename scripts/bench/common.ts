/** Helpers shared by the benchmark parts. */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import type { RunResult } from '../../test/harness/runNode';

/** Image generation from a text prompt with model 101 (the simulator's first fibo model). */
export function generateImages(prompt: string, options: INodeParameters): INodeParameters {
	return {
		resource: 'image',
		operation: 'generate',
		model: { __rl: true, mode: 'id', value: '101' },
		inputMode: 'prompt',
		prompt,
		options,
	};
}

export function inputItems(count: number): INodeExecutionData[] {
	return Array.from({ length: count }, (_, index) => ({ json: { index } }));
}

/** Items that did not end COMPLETED (error items of Continue On Fail, or all of them when the node failed). */
export function failedItems(result: RunResult, expected: number): number {
	if (result.error) return expected;
	return expected - result.items.filter((item) => item.json.status === 'COMPLETED').length;
}

/** Distinct error messages of a run, for the report's diagnostics. */
export function errorMessages(result: RunResult, limit = 3): string[] {
	const messages = new Set<string>();
	if (result.error) messages.add(result.error.message);
	for (const item of result.items) if (typeof item.json.error === 'string') messages.add(item.json.error);
	return [...messages].slice(0, limit);
}

/** Nearest-rank percentile (p in 0…100) of a non-empty list. */
export function percentile(values: number[], p: number): number {
	if (!values.length) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
	return sorted[Math.min(sorted.length, rank) - 1];
}

export function mean(values: number[]): number {
	return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : NaN;
}

export function median(values: number[]): number {
	return percentile(values, 50);
}

/** Progress goes to stderr, so stdout carries only the figures. */
export function progress(text: string): void {
	process.stderr.write(`[bench] ${text}\n`);
}

/**
 * runNode.ts swaps console methods in and out around each run; runs side by side can leave one
 * run's capture installed. Parts that run the node concurrently restore the originals after.
 */
export function keepConsole(): () => void {
	const original = { log: console.log, warn: console.warn, error: console.error, info: console.info, debug: console.debug };
	return () => Object.assign(console, original);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
