/**
 * `npm run screenshots`: PNGs of the Bria Tailored node in the real n8n editor, under
 * docs/screenshots/: the panel for each operation and input mode, the model picker (listing the
 * simulator's tailored models), each recipe of examples/ on the canvas (recipe-*.png; its S3 and
 * SMTP credentials point at the real local servers the recipe tests use) and the
 * structured-prompt-loop example after a run.
 * Headless Debian Chromium (installed by scripts/install-chromium.sh if missing) + playwright-core.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Browser } from 'playwright-core';

import { startBackend } from './lib/backend';
import type { Backend } from './lib/backend';
import { Editor, ensureChromium, launchChromium } from './lib/editor';
import { galleryEntries, galleryWorkflow, GALLERY_WORKFLOW_ID } from './lib/gallery';
import { installN8n, N8nInstance, packPackage } from './lib/n8n';
import type { RunningN8n } from './lib/n8n';
import { repoRoot, stopChildrenOnSignals } from './lib/processes';
import { LocalS3Server, LocalSmtpServer } from './lib/recipeServices';
import { briaCredential, loadExample, prepareExample, withCredential } from './lib/workflows';

const say = (text: string) => process.stderr.write(`[screenshots] ${text}\n`);
const LOOP_ID = 'briaShotsLoop';

/** The recipes in examples/, each shot on the canvas as `docs/screenshots/recipe-<name>.png`. */
const RECIPES = [
	{ file: 'form-variations-to-email.json', id: 'briaShotsRecipeForm', shot: 'recipe-form-variations-to-email' },
	{ file: 'cms-webhook-to-s3.json', id: 'briaShotsRecipeCms', shot: 'recipe-cms-webhook-to-s3' },
	{ file: 'edit-structured-prompt.json', id: 'briaShotsRecipeEdit', shot: 'recipe-edit-structured-prompt' },
	{ file: 'newest-model-generate.json', id: 'briaShotsRecipeModel', shot: 'recipe-newest-model-generate' },
];

async function main(): Promise<void> {
	const outDir = path.join(repoRoot(), 'docs', 'screenshots');
	mkdirSync(outDir, { recursive: true });
	let backend: Backend | undefined;
	let instance: N8nInstance | undefined;
	let running: RunningN8n | undefined;
	let browser: Browser | undefined;
	let smtp: LocalSmtpServer | undefined;
	let s3: LocalS3Server | undefined;
	const packDir = await mkdtemp(path.join(tmpdir(), 'bria-pack-'));
	const cleanup = async () => {
		await browser?.close();
		await running?.stop();
		await instance?.dispose();
		await backend?.stop();
		await smtp?.stop();
		await s3?.stop();
		await rm(packDir, { recursive: true, force: true });
	};
	stopChildrenOnSignals(cleanup);
	try {
		const chromiumPath = await ensureChromium();
		// Always the simulator: screenshots must not depend on (or show) a real account.
		delete process.env.BRIA_API_TOKEN;
		backend = await startBackend({ jobMs: 300 });
		const install = await installN8n({ log: (text) => process.stderr.write(text) });
		instance = await N8nInstance.create({ install, tarball: await packPackage(packDir) });
		const credential = { id: 'briaShotsCredential', name: 'Bria API' };
		smtp = await LocalSmtpServer.start();
		s3 = await LocalS3Server.start(['brand-images']);
		const smtpCredential = { id: 'briaShotsSmtp', name: 'SMTP' };
		const s3Credential = { id: 'briaShotsS3', name: 'S3' };
		await instance.importCredentials([
			briaCredential(credential.id, backend.apiToken, backend.baseUrl, credential.name),
			smtp.n8nCredential(smtpCredential.id, smtpCredential.name),
			s3.n8nCredential(s3Credential.id, s3Credential.name),
		]);
		const entries = galleryEntries(credential);
		const loop = prepareExample(loadExample('structured-prompt-loop.json'), LOOP_ID, credential, backend.modelId);
		const recipes = RECIPES.map(({ file, id }) =>
			withCredential(
				withCredential(prepareExample(loadExample(file), id, credential, backend!.modelId), 'n8n-nodes-base.emailSend', 'smtp', smtpCredential),
				'n8n-nodes-base.s3',
				's3',
				s3Credential,
			),
		);
		await instance.importWorkflows([galleryWorkflow(entries), loop, ...recipes]);
		running = await instance.start();
		await running.setupOwner();

		browser = await launchChromium(chromiumPath);
		const editor = await Editor.signIn(browser, running.baseUrl);
		const saved: string[] = [];
		const shoot = async (name: string, what: 'page' | 'ndv') => {
			const file = path.join(outDir, `${name}.png`);
			await editor.screenshot(file, what);
			saved.push(path.relative(repoRoot(), file));
		};

		for (const entry of entries) {
			await editor.openNode(GALLERY_WORKFLOW_ID, entry.node.id);
			await shoot(`node-${entry.key}`, 'ndv');
		}
		// The model picker lists the organization's usable tailored models (the node's listSearch).
		await editor.openNode(GALLERY_WORKFLOW_ID, entries[0].node.id);
		await editor.modelListEntries();
		await shoot('model-picker', 'ndv');

		// Each recipe as imported and set up (credentials, model picked), the whole workflow in view.
		for (const recipe of RECIPES) {
			await editor.openWorkflow(recipe.id);
			await editor.fitView();
			await shoot(recipe.shot, 'page');
		}

		// The loop example on the canvas after a run from the editor, then one node's output.
		await editor.openWorkflow(LOOP_ID);
		await editor.runWorkflow(loop.nodes.filter((node) => node.type !== 'n8n-nodes-base.stickyNote').length);
		await editor.fitView();
		await shoot('workflow-structured-prompt-loop', 'page');
		await editor.openNodeOnCanvas('Recreate With Edit');
		await shoot('node-output-recreate', 'ndv');
		for (const file of saved) say(`wrote ${file}`);
	} finally {
		await cleanup();
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		say(`failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
		process.exit(1);
	},
);
