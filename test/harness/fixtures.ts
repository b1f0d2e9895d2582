import type { INodeParameters } from 'n8n-workflow';

import { resetBudgets } from '../../nodes/BriaTailored/scheduler/Pacer';
import { BriaSimulator } from '../simulator/BriaSimulator';
import type { SimOptions } from '../simulator/BriaSimulator';
import type { BriaCredential } from './runNode';

/** Distinctive, so a leak is found by a plain substring search anywhere. */
export const TOKEN = 'sim-token-Zq81-never-leak';

/** One simulator per test file, cleared before each test. */
export function useSimulator(options: SimOptions = {}) {
	let sim: BriaSimulator | undefined;
	beforeAll(async () => {
		sim = await BriaSimulator.start({ token: TOKEN, jobMs: 200, ...options });
	});
	beforeEach(() => {
		sim?.reset();
		// Each test starts from a fresh process's rate budget: nothing learned by an earlier test.
		resetBudgets();
	});
	afterAll(async () => {
		await sim?.stop();
	});
	return {
		get sim(): BriaSimulator {
			if (!sim) throw new Error('simulator not started');
			return sim;
		},
		get credentials(): BriaCredential {
			if (!sim) throw new Error('simulator not started');
			return { apiToken: TOKEN, baseUrl: sim.baseUrl };
		},
	};
}

/** The model picker's value in "ID" mode. */
export const modelById = (id = '101') => ({ __rl: true, mode: 'id', value: id });

export const imageParameters = (parameters: INodeParameters): INodeParameters => ({
	resource: 'image',
	operation: 'generate',
	model: modelById(),
	...parameters,
});

export const structuredPromptParameters = (parameters: INodeParameters): INodeParameters => ({
	resource: 'structuredPrompt',
	operation: 'generate',
	model: modelById(),
	...parameters,
});

/** Everything a user or a log could see, as one string, for leak checks. */
export function visibleText(result: { items: unknown[]; error?: unknown; logs: string[] }): string {
	return JSON.stringify({ items: result.items, error: result.error, logs: result.logs });
}
