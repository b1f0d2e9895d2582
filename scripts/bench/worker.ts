/**
 * Entry of one benchmark part, run in its own process by bench.ts (`worker.js <part> [variant]`),
 * so parts never share CPU accounting, heap or RSS, and every variant of a rate-bound part starts
 * with the node's module-level state (its budget, what it learned) fresh. Sends its PartEnvelope
 * over IPC and exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { measureBurst } from './burst';
import { measureConcurrency } from './concurrency';
import { measureCpu } from './cpu';
import { measureFairness } from './fairness';
import { measureLag } from './lag';
import { measureMemory } from './memory';
import { measurePump } from './pump';
import { measureRateLimit } from './rateLimit';
import { measureScale, measureSingles } from './scale';
import { measureShare } from './share';
import { PART_NAMES } from './types';
import type { PartEnvelope, PartName, PartResults, WorkerMessage } from './types';

const MEASURE: { [P in PartName]: (variant: string) => Promise<PartResults[P]> } = {
	concurrency: () => measureConcurrency(process.env.BENCH_FULL === '1'),
	lag: measureLag,
	ratelimit: measureRateLimit,
	burst: measureBurst,
	cpu: measureCpu,
	memory: measureMemory,
	scale: measureScale,
	singles: measureSingles,
	share: measureShare,
	fairness: measureFairness,
	pump: measurePump,
};

async function main(): Promise<void> {
	const part = process.argv[2] as PartName;
	const variant = process.argv[3] ?? '';
	if (!PART_NAMES.includes(part)) throw new Error(`unknown part "${part}"`);
	// n8n's binary-data service wants a user folder: a private one, removed afterwards.
	const userFolder = mkdtempSync(path.join(tmpdir(), 'bria-bench-'));
	process.env.N8N_USER_FOLDER = userFolder;
	// A throwaway key for that throwaway folder; without one n8n generates one and says so on stdout.
	process.env.N8N_ENCRYPTION_KEY ??= 'bria-bench-throwaway-key';
	const started = Date.now();
	const envelope: PartEnvelope = { part, measuredAt: new Date(started).toISOString(), durationMs: 0 };
	try {
		envelope.result = await MEASURE[part](variant);
	} catch (error) {
		envelope.error = (error as Error)?.stack ?? String(error);
	} finally {
		envelope.durationMs = Date.now() - started;
		rmSync(userFolder, { recursive: true, force: true });
	}
	const message: WorkerMessage = { type: 'result', envelope };
	process.send?.(message, () => process.exit(0));
	// Without a parent (run by hand), print the figures instead.
	if (!process.send) {
		process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
		process.exit(0);
	}
}

main().catch((error: unknown) => {
	process.stderr.write(`bench worker failed: ${(error as Error)?.stack ?? String(error)}\n`);
	process.exit(1);
});
