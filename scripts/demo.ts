/**
 * `npm run demo`: two workflows run in a real n8n with this package installed the way n8n installs
 * community nodes: the example "structured prompt loop", and generate → refine → recreate of one
 * image (recreate must give the generated image back, byte for byte). Generated images go to
 * output/, the result JSON to stdout (progress to stderr). `npm run demo -- --docs` also writes
 * half-size copies of the three pictures to docs/demo/ for the README. Uses the built-in Bria
 * simulator unless BRIA_API_TOKEN is set (then the real Bria API; BRIA_MODEL_ID and BRIA_BASE_URL optional).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startBackend } from './lib/backend';
import type { Backend } from './lib/backend';
import { shrinkPng } from '../test/simulator/picture';
import { installN8n, N8nInstance, NODE_TYPE, packPackage } from './lib/n8n';
import type { Execution, Item, WorkflowFile } from './lib/n8n';
import { repoRoot, stopChildrenOnSignals } from './lib/processes';
import { briaCredential, briaNode, loadExample, manualTrigger, modelById, prepareExample } from './lib/workflows';
import type { CredentialRef } from './lib/workflows';

const EXAMPLE = 'structured-prompt-loop.json';
const say = (text: string) => process.stderr.write(`[demo] ${text}\n`);

/** The three pictures the README shows side by side, by node name, with their docs/demo file names. */
const THREE_STEPS = { generate: 'Generate Image', refine: 'Refine Generated Image', recreate: 'Recreate Generated Image' } as const;

/**
 * Generate one image, then from its result both Refine (same seed, one instruction: only what the
 * instruction says changes) and Recreate (structured prompt + seed: the same image again).
 */
function threeStepWorkflow(credential: CredentialRef, modelId: string): WorkflowFile {
	const model = modelById(modelId);
	const trigger = manualTrigger('Start');
	trigger.position = [0, 0];
	const generate = briaNode(THREE_STEPS.generate, {
		resource: 'image',
		operation: 'generate',
		model,
		inputMode: 'prompt',
		prompt: 'Our terracotta ceramic coffee mug on a wooden table, brand product shot, warm golden-hour light',
		waitForCompletion: true,
		options: { aspectRatio: '4:5', seed: 1234 },
	}, credential, { position: [240, 0] });
	const refine = briaNode(THREE_STEPS.refine, {
		resource: 'image',
		operation: 'generate',
		model,
		inputMode: 'refine',
		prompt: 'Make the background a deep ocean blue',
		structuredPrompt: '={{ $json.structured_prompt }}',
		waitForCompletion: true,
		options: { aspectRatio: '4:5', seed: '={{ $json.seed }}' },
	}, credential, { position: [480, -120] });
	const recreate = briaNode(THREE_STEPS.recreate, {
		resource: 'image',
		operation: 'generate',
		model,
		inputMode: 'recreate',
		structuredPrompt: '={{ $json.structured_prompt }}',
		seed: '={{ $json.seed }}',
		waitForCompletion: true,
		options: { aspectRatio: '4:5' },
	}, credential, { position: [480, 120] });
	const to = (node: string) => ({ node, type: 'main' as const, index: 0 });
	return {
		id: 'briaDemoThreeSteps',
		name: 'Bria demo: generate, refine, recreate',
		active: false,
		nodes: [trigger, generate, refine, recreate],
		connections: { Start: { main: [[to(generate.name)]] }, [generate.name]: { main: [[to(refine.name), to(recreate.name)]] } },
		settings: { executionOrder: 'v1' },
	};
}

/** A half-size copy for the README; a PNG the shrinker cannot read (e.g. RGBA from real Bria) is kept as is. */
function halfSize(png: Buffer): Buffer {
	try {
		return shrinkPng(png, 2);
	} catch {
		return png;
	}
}

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
		const loop = prepareExample(loadExample(EXAMPLE), 'briaDemoLoop', credential, backend.modelId);
		const threeSteps = threeStepWorkflow(credential, backend.modelId);
		await instance.importWorkflows([loop, threeSteps]);
		say(`imported credential "${credential.name}", examples/${EXAMPLE} and "${threeSteps.name}"`);

		const n8n = instance;
		const timeoutMs = backend.kind === 'bria' ? 15 * 60_000 : 3 * 60_000;
		const run = async (workflow: WorkflowFile): Promise<Execution> => {
			say(`running "${workflow.name}" with n8n execute…`);
			const execution = await n8n.execute(workflow.id, { timeoutMs });
			if (execution.error) {
				const node = execution.error.node?.name ? ` in "${execution.error.node.name}"` : '';
				throw new Error(`"${workflow.name}" failed${node}: ${execution.error.message ?? 'unknown error'}${execution.error.description ? `\n${execution.error.description}` : ''}`);
			}
			return execution;
		};

		mkdirSync(outputDir, { recursive: true });
		const nodes: Record<string, unknown> = {};
		const images: string[] = [];
		const bytesOf: Record<string, Buffer> = {};
		for (const workflow of [loop, threeSteps]) {
			const execution = await run(workflow);
			for (const node of workflow.nodes.filter((n) => n.type === NODE_TYPE)) {
				nodes[node.name] = execution.items(node.name).map((item: Item, index) => {
					const files: Record<string, string> = {};
					for (const [field, ref] of Object.entries(item.binary ?? {})) {
						const extension = ref.fileExtension ?? 'png';
						const file = path.join(outputDir, `${slug(node.name)}${index ? `-${index}` : ''}.${extension}`);
						const bytes = execution.binary(ref);
						writeFileSync(file, bytes);
						if (!index) bytesOf[node.name] = bytes;
						files[field] = path.relative(root, file);
						images.push(file);
					}
					return { ...item.json, ...(Object.keys(files).length ? { files } : {}) };
				});
			}
		}
		const [generated, refined, recreated] = [bytesOf[THREE_STEPS.generate], bytesOf[THREE_STEPS.refine], bytesOf[THREE_STEPS.recreate]];
		if (!generated || !refined || !recreated) throw new Error('generate → refine → recreate did not return all three images');
		const threeStepCheck = { recreateIdenticalToGenerate: recreated.equals(generated), refineChangedTheImage: !refined.equals(generated) };
		say(`recreate gave the generated image back byte for byte: ${threeStepCheck.recreateIdenticalToGenerate}; refine changed it: ${threeStepCheck.refineChangedTheImage}`);
		if (backend.kind === 'simulator' && !(threeStepCheck.recreateIdenticalToGenerate && threeStepCheck.refineChangedTheImage))
			throw new Error('the simulator broke its promise: recreate must give identical bytes and refine different ones');

		if (process.argv.includes('--docs')) {
			const docsDir = path.join(root, 'docs', 'demo');
			mkdirSync(docsDir, { recursive: true });
			for (const [key, bytes] of [['generate', generated], ['refine', refined], ['recreate', recreated]] as const) {
				const file = path.join(docsDir, `${key}.png`);
				writeFileSync(file, halfSize(bytes));
				say(`wrote ${path.relative(root, file)} (half size)`);
			}
		}

		const result = {
			workflows: [loop.name, threeSteps.name],
			n8n: install.version,
			backend: backend.kind === 'bria' ? `bria (${backend.baseUrl})` : 'simulator',
			model: backend.modelId,
			seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
			nodes,
			threeStepCheck,
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
