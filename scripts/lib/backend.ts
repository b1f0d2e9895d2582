/**
 * Where demo/dev/screenshots send Bria traffic: the project's Bria simulator on 127.0.0.1 by
 * default, or the real Bria API when BRIA_API_TOKEN is set (BRIA_MODEL_ID, BRIA_BASE_URL optional).
 */
import { BriaSimulator } from '../../test/simulator/BriaSimulator';

export const BRIA_DEFAULT_BASE_URL = 'https://engine.prod.bria-api.com';

export interface Backend {
	kind: 'simulator' | 'bria';
	baseUrl: string;
	apiToken: string;
	modelId: string;
	/** One line for the console. */
	description: string;
	simulator?: BriaSimulator;
	stop(): Promise<void>;
}

interface ModelEntry {
	id: number | string;
	name?: string;
	status?: string;
	training_version?: string;
}

/** The first model Bria can generate with (Completed, and FIBO when the version is given). */
async function firstUsableModel(baseUrl: string, apiToken: string): Promise<ModelEntry> {
	const response = await fetch(`${baseUrl}/v1/tailored-gen/models`, {
		headers: { api_token: apiToken, accept: 'application/json' },
		signal: AbortSignal.timeout(30_000),
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`listing tailored models failed: HTTP ${response.status} ${text.slice(0, 300)}`);
	const models = JSON.parse(text) as ModelEntry[];
	const usable = Array.isArray(models)
		? models.find((m) => m.status === 'Completed' && (m.training_version === undefined || m.training_version === 'fibo'))
		: undefined;
	if (!usable) throw new Error('no completed FIBO tailored model in this organization: train one, or set BRIA_MODEL_ID');
	return usable;
}

export async function startBackend(options: { jobMs?: number; port?: number } = {}): Promise<Backend> {
	const token = process.env.BRIA_API_TOKEN?.trim();
	if (token) {
		const baseUrl = (process.env.BRIA_BASE_URL?.trim() || BRIA_DEFAULT_BASE_URL).replace(/\/+$/, '');
		let modelId = process.env.BRIA_MODEL_ID?.trim();
		let modelName = '';
		if (!modelId) {
			const model = await firstUsableModel(baseUrl, token);
			modelId = String(model.id);
			modelName = model.name ? ` "${model.name}"` : '';
		}
		return {
			kind: 'bria',
			baseUrl,
			apiToken: token,
			modelId,
			description: `the real Bria API at ${baseUrl}, tailored model ${modelId}${modelName}`,
			stop: async () => {},
		};
	}
	const simulator = await BriaSimulator.start({ jobMs: options.jobMs ?? 800, port: options.port });
	return {
		kind: 'simulator',
		baseUrl: simulator.baseUrl,
		apiToken: simulator.options.token,
		modelId: '101',
		description: `the built-in Bria simulator at ${simulator.baseUrl} (model 101 "Brand Product Shots"; set BRIA_API_TOKEN to use the real Bria API)`,
		simulator,
		stop: async () => await simulator.stop(),
	};
}
