/**
 * Runs the Bria simulator as a standalone process (e.g. for a real n8n instance in end-to-end tests).
 * Env: BRIA_SIM_PORT, BRIA_SIM_IMAGE_PORT (0 = random), BRIA_SIM_TOKEN, BRIA_SIM_JOB_MS, BRIA_SIM_RATE_LIMIT.
 * Prints one JSON line {baseUrl, imageBaseUrl, token} once listening; stops cleanly on SIGTERM/SIGINT.
 */
import { BriaSimulator, type SimOptions } from './BriaSimulator';

function intFromEnv(name: string, env: NodeJS.ProcessEnv): number | undefined {
	const raw = env[name]?.trim();
	if (!raw) return undefined;
	const value = Number(raw);
	if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer (got "${raw}")`);
	return value;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): SimOptions {
	return {
		port: intFromEnv('BRIA_SIM_PORT', env) ?? 0,
		imagePort: intFromEnv('BRIA_SIM_IMAGE_PORT', env) ?? 0,
		token: env.BRIA_SIM_TOKEN?.trim() || undefined,
		jobMs: intFromEnv('BRIA_SIM_JOB_MS', env),
		rateLimitPerMinute: intFromEnv('BRIA_SIM_RATE_LIMIT', env),
	};
}

export async function startFromCli(env: NodeJS.ProcessEnv = process.env): Promise<BriaSimulator> {
	const sim = await BriaSimulator.start(optionsFromEnv(env));
	// Exactly one line on stdout: the parent process parses it to find the ports.
	process.stdout.write(
		`${JSON.stringify({ baseUrl: sim.baseUrl, imageBaseUrl: sim.imageBaseUrl, token: sim.options.token })}\n`,
	);
	let stopping = false;
	const shutdown = () => {
		if (stopping) return;
		stopping = true;
		sim.stop().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.once('SIGTERM', shutdown);
	process.once('SIGINT', shutdown);
	return sim;
}

export function main(): void {
	startFromCli().catch((error: unknown) => {
		process.stderr.write(`bria simulator failed to start: ${(error as Error)?.message ?? String(error)}\n`);
		process.exit(1);
	});
}

if (require.main === module) main();
