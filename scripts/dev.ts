/**
 * `npm run dev`: the n8n editor on http://localhost:5678 (N8N_PORT to change) with this package
 * installed as a community package, a Bria credential pointing at the built-in simulator (or the
 * real Bria API when BRIA_API_TOKEN is set), the example workflows and a workflow with one node per
 * operation and input mode. Runs until Ctrl-C; every run starts from a fresh n8n user folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startBackend } from './lib/backend';
import type { Backend } from './lib/backend';
import { galleryEntries, galleryWorkflow } from './lib/gallery';
import { DEFAULT_OWNER, installN8n, N8nInstance, packPackage } from './lib/n8n';
import type { RunningN8n } from './lib/n8n';
import { exited, portInUse, stopChildrenOnSignals, stopRequested } from './lib/processes';
import { briaCredential, loadExamples, prepareExample } from './lib/workflows';

const say = (text: string) => process.stderr.write(`[dev] ${text}\n`);

let cleanup: () => Promise<void> = async () => {};

async function main(): Promise<void> {
	const port = Number(process.env.N8N_PORT ?? 5678);
	if (!Number.isInteger(port) || port <= 0) throw new Error(`N8N_PORT must be a port number (got "${process.env.N8N_PORT}")`);
	if (await portInUse(port)) throw new Error(`port ${port} is already in use: stop what runs there or set N8N_PORT`);

	// Filled in as things start, so Ctrl-C at any point stops what exists.
	const started: { backend?: Backend; instance?: N8nInstance; running?: RunningN8n } = {};
	const packDir = await mkdtemp(path.join(tmpdir(), 'bria-pack-'));
	cleanup = async () => {
		await started.running?.stop();
		await started.instance?.dispose();
		await started.backend?.stop();
		await rm(packDir, { recursive: true, force: true });
	};
	stopChildrenOnSignals(cleanup);

	const backend = (started.backend = await startBackend({ jobMs: 2_000 }));
	say(`Bria backend: ${backend.description}`);
	say('n8n: installing or reusing the pinned release (the first time takes a few minutes)…');
	const install = await installN8n({ log: (text) => process.stderr.write(text) });
	const tarball = await packPackage(packDir);
	const instance = (started.instance = await N8nInstance.create({ install, tarball, port }));
	say(`n8n user folder: ${instance.userFolder} (removed on exit)`);

	const credential = { id: 'briaDevCredential', name: backend.kind === 'bria' ? 'Bria API' : 'Bria API (simulator)' };
	await instance.importCredentials([briaCredential(credential.id, backend.apiToken, backend.baseUrl, credential.name)]);
	const examples = loadExamples().map(({ workflow }) => prepareExample(workflow, workflow.id, credential, backend.modelId));
	await instance.importWorkflows([galleryWorkflow(galleryEntries(credential)), ...examples]);
	say(`imported credential "${credential.name}", ${examples.length} example workflows and the node gallery`);

	const running = (started.running = await instance.start({ timeoutMs: 180_000 }));
	await running.setupOwner();
	say('');
	say(`n8n ${install.version} is ready: http://localhost:${port}`);
	say(`sign in with ${DEFAULT_OWNER.email} / ${DEFAULT_OWNER.password}`);
	say('Ctrl-C stops n8n and the simulator.');
	await exited(running.child);
	if (stopRequested()) return; // Ctrl-C: the signal handler finishes the cleanup and exits
	throw new Error(`n8n exited unexpectedly (code ${running.child.exitCode}):\n${running.output().split('\n').slice(-30).join('\n')}`);
}

main().catch(async (error: unknown) => {
	say(`failed: ${error instanceof Error ? error.message : String(error)}`);
	await cleanup().catch(() => say('cleanup failed'));
	process.exit(1);
});
