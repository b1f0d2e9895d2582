import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { installN8n, packPackage } from '../../scripts/lib/n8n';

/**
 * Installs (or reuses) the pinned n8n and packs this package once for the whole run; test files
 * read both from the environment (jest starts test workers after this, with this environment).
 */
export default async function globalSetup(): Promise<void> {
	const started = Date.now();
	process.stderr.write('\n[e2e] installing or reusing n8n (first time: a few minutes)…\n');
	const install = await installN8n({ log: (text) => process.stderr.write(text) });
	const packDir = mkdtempSync(path.join(tmpdir(), 'bria-e2e-pack-'));
	const tarball = await packPackage(packDir);
	process.env.BRIA_E2E_N8N = JSON.stringify(install);
	process.env.BRIA_E2E_TARBALL = tarball;
	process.env.BRIA_E2E_PACK_DIR = packDir;
	process.stderr.write(`[e2e] n8n ${install.version} and ${path.basename(tarball)} ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
