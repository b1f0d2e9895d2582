/**
 * `npm run demo`: the example "structured prompt loop" workflow, run in a real n8n with this
 * package installed the way n8n installs community nodes. Generated images go to output/, the
 * result JSON to stdout (progress to stderr). Uses the built-in Bria simulator unless
 * BRIA_API_TOKEN is set (then the real Bria API; BRIA_MODEL_ID and BRIA_BASE_URL optional).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startBackend } from './lib/backend';
import type { Backend } from './lib/backend';
import { installN8n, N8nInstance, NODE_TYPE, packPackage } from './lib/n8n';
import type { Item } from './lib/n8n';
import { repoRoot, stopChildrenOnSignals } from './lib/processes';
import { briaCredential, loadExample, prepareExample } from './lib/workflows';

const EXAMPLE = 'structured-prompt-loop.json';
const say = (text: string) => process.stderr.write(`[demo] ${text}\n`);

function slug(text: string): string {
	return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

async function main(): Promise<void> {
	const started = Date.now();
	const root = repoRoot();
	const outputDir = path.join(root, 'output');
	let backend: Backend | undefined;
	let instance: N8nInstance | undefined;
	const packDir = await mkdtemp(path.join(tmpdir(), 'bria-pack-'));
	const cleanup = async () => {
		await instance?.dispose();
		await backend?.stop();
		await rm(packDir, { recursive: true, force: true });
	};
	stopChildrenOnSignals(cleanup);
	try {
		backend = await startBackend();
		say(`Bria backend: ${backend.description}`);

		say('n8n: installing or reusing the pinned release (the first time takes a few minutes)…');
		const install = await installN8n({ log: (text) => process.stderr.write(text) });

		say('packing this package with npm pack and installing it into a fresh n8n user folder…');
		const tarball = await packPackage(packDir);
		instance = await N8nInstance.create({ install, tarball });
		say(`n8n user folder: ${instance.userFolder}`);

		const credential = { id: 'briaDemoCredential', name: backend.kind === 'bria' ? 'Bria API' : 'Bria API (simulator)' };
		await instance.importCredentials([briaCredential(credential.id, backend.apiToken, backend.baseUrl, credential.name)]);
		const workflow = prepareExample(loadExample(EXAMPLE), 'briaDemoLoop', credential, backend.modelId);
		await instance.importWorkflows([workflow]);
		say(`imported credential "${credential.name}" and examples/${EXAMPLE}`);

		say(`running "${workflow.name}" with n8n execute…`);
		const execution = await instance.execute(workflow.id, { timeoutMs: backend.kind === 'bria' ? 15 * 60_000 : 3 * 60_000 });
		if (execution.error) {
			const node = execution.error.node?.name ? ` in "${execution.error.node.name}"` : '';
			throw new Error(`the workflow failed${node}: ${execution.error.message ?? 'unknown error'}${execution.error.description ? `\n${execution.error.description}` : ''}`);
		}

		mkdirSync(outputDir, { recursive: true });
		const nodes: Record<string, unknown> = {};
		const images: string[] = [];
		for (const node of workflow.nodes.filter((n) => n.type === NODE_TYPE)) {
			nodes[node.name] = execution.items(node.name).map((item: Item, index) => {
				const files: Record<string, string> = {};
				for (const [field, ref] of Object.entries(item.binary ?? {})) {
					const extension = ref.fileExtension ?? 'png';
					const file = path.join(outputDir, `${slug(node.name)}${index ? `-${index}` : ''}.${extension}`);
					writeFileSync(file, execution.binary(ref));
					files[field] = path.relative(root, file);
					images.push(file);
				}
				return { ...item.json, ...(Object.keys(files).length ? { files } : {}) };
			});
		}
		const result = {
			workflow: workflow.name,
			n8n: install.version,
			backend: backend.kind === 'bria' ? `bria (${backend.baseUrl})` : 'simulator',
			model: backend.modelId,
			seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
			nodes,
		};
		writeFileSync(path.join(outputDir, 'demo-result.json'), `${JSON.stringify(result, null, 2)}\n`);
		process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
		for (const file of images) say(`wrote ${path.relative(root, file)}`);
		say(`wrote output/demo-result.json; done in ${result.seconds} s`);
		if (!images.length) throw new Error('the workflow ran but produced no image');
	} finally {
		await cleanup();
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		say(`failed: ${error instanceof Error ? error.message : String(error)}`);
		process.exit(1);
	},
);
