/**
 * One n8n process of the share part (share.ts forks one per process it measures): its own node
 * module, hence its own organization budget, which cannot see the other process's. Runs a burst
 * of single-item executions against the common simulator when told to go, and reports when each
 * answered. Arguments: JSON of PeerArgs in argv[2].
 */
import { runBriaNode } from '../../test/harness/runNode';
import type { BriaCredential } from '../../test/harness/runNode';
import { errorMessages, failedItems, generateImages, keepConsole, readyThenWait, withPlan } from './common';

export interface PeerArgs {
	label: string;
	credentials: BriaCredential;
	executions: number;
	/** The plan this process states on its credential (the organization's full plan). */
	perMinute: number;
	capMs: number;
	/** n8n's user folder for this process; share.ts makes it and removes it once the process is gone. */
	userFolder: string;
}

export interface PeerReport {
	type: 'peer-result';
	label: string;
	/** From the moment this process was told to go, sorted; failed executions do not answer. */
	answersMs: number[];
	failed: number;
	cancelled: boolean;
	errors: string[];
}

async function main(): Promise<void> {
	const args = JSON.parse(process.argv[2] ?? '{}') as PeerArgs;
	process.env.N8N_USER_FOLDER = args.userFolder;
	process.env.N8N_ENCRYPTION_KEY ??= 'bria-bench-throwaway-key';
	const restoreConsole = keepConsole();
	try {
		// Loads n8n's engine, says 'ready' and waits for 'go' (share.ts lets every process go at once).
		await readyThenWait();
		const { credentials, options } = withPlan(args.credentials, args.perMinute);
		const started = Date.now();
		const answersMs: number[] = [];
		const runs = await Promise.all(
			Array.from({ length: args.executions }, async (_, index) => {
				const run = await runBriaNode({
					credentials,
					continueOnFail: true,
					cancelAfterMs: args.capMs,
					items: [{ json: { index } }],
					parameters: generateImages(`bench share ${args.label} ${index + 1}`, { downloadImage: false, ...options }),
				});
				if (!failedItems(run, 1)) answersMs.push(Date.now() - started);
				return run;
			}),
		);
		restoreConsole();
		const report: PeerReport = {
			type: 'peer-result',
			label: args.label,
			answersMs: answersMs.sort((a, b) => a - b),
			failed: runs.reduce((sum, run) => sum + failedItems(run, 1), 0),
			cancelled: runs.some((run) => run.durationMs >= args.capMs),
			errors: [...new Set(runs.flatMap((run) => errorMessages(run)))].slice(0, 3),
		};
		process.send?.(report, () => process.exit(0));
	} finally {
		restoreConsole();
	}
}

main().catch((error: unknown) => {
	process.stderr.write(`bench share peer failed: ${(error as Error)?.stack ?? String(error)}\n`);
	process.exit(1);
});
