// `npm run lint`, second half: checks the package the way n8n's verification scanner
// (@n8n/scan-community-package) does after `npm publish`, but on the local build, before publishing:
//   1. the tarball `npm pack` would publish holds only what n8n loads (compiled JavaScript, icons,
//      codex files, package.json, README, licence) and every file package.json's "n8n" names;
//   2. the scanner's rule set, inline eslint-disable comments ignored, on the tarball's compiled
//      .js and package.json, and on the sources it lints (package.json, nodes/, credentials/);
//   3. `n8n-node cloud-support` reports the package eligible for n8n Cloud verification.
// Run after `npm run build` (the npm script does that). Exit code 1 on any finding.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import { ESLint } from 'eslint';
import n8nNodesPlugin from 'eslint-plugin-n8n-nodes-base';
import tseslint from 'typescript-eslint';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];

// ---------- 1. what the tarball holds ----------

const SHIPPED = [
	/^package\.json$/,
	/^README\.md$/,
	/^LICENSE\.md$/,
	/^dist\/.+\.js$/,
	/^dist\/(nodes|credentials)\/.+\.(svg|png|node\.json)$/,
];
const packJson = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
	cwd: root,
	encoding: 'utf8',
	stdio: ['ignore', 'pipe', 'ignore'],
});
const packed = JSON.parse(packJson.slice(packJson.indexOf('[')))[0];
const packedFiles = packed.files.map((file) => file.path).sort();
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

for (const file of packedFiles)
	if (!SHIPPED.some((pattern) => pattern.test(file))) problems.push(`tarball: ${file} is not something n8n loads`);
const needed = [manifest.main, ...(manifest.n8n?.nodes ?? []), ...(manifest.n8n?.credentials ?? [])];
for (const file of needed)
	if (!packedFiles.includes(file)) problems.push(`tarball: ${file} (named in package.json) is missing: run npm run build`);
if (Object.keys(manifest.dependencies ?? {}).length) problems.push('package.json: runtime "dependencies" are not allowed on n8n Cloud');
console.log(
	`tarball ${packed.filename}: ${packedFiles.length} files, ${(packed.size / 1024).toFixed(1)} kB packed ` +
		`(${packedFiles.filter((file) => file.endsWith('.js')).length} .js)`,
);

// ---------- 2. the scanner's lint ----------

// The scanner's config: the community rules (Cloud variant), no-console, and the n8n-nodes-base
// rule sets with the same rules switched off that n8n-node's own config switches off.
const scannerConfig = [
	n8nCommunityNodesPlugin.configs.recommended,
	{ rules: { 'no-console': 'error' } },
	{ plugins: { 'n8n-nodes-base': n8nNodesPlugin } },
	{ files: ['package.json'], rules: { ...n8nNodesPlugin.configs.community.rules } },
	{
		files: ['**/credentials/**/*.ts'],
		rules: {
			...n8nNodesPlugin.configs.credentials.rules,
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
			'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
		},
	},
	{
		files: ['**/nodes/**/*.ts'],
		rules: {
			...n8nNodesPlugin.configs.nodes.rules,
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
		},
	},
	{ files: ['**/*.json', '**/*.ts'], languageOptions: { parser: tseslint.parser } },
];
const eslint = new ESLint({
	cwd: root,
	allowInlineConfig: false,
	overrideConfigFile: true,
	overrideConfig: scannerConfig,
});
const shippedCode = packedFiles.filter((file) => file.endsWith('.js') || file === 'package.json');
const sourceFiles = ['package.json', 'nodes/**/*.{js,ts,json}', 'credentials/**/*.{js,ts,json}'];
const results = [...(await eslint.lintFiles(shippedCode)), ...(await eslint.lintFiles(sourceFiles))];
const errors = results.reduce((sum, result) => sum + result.errorCount, 0);
const warnings = results.reduce((sum, result) => sum + result.warningCount, 0);
const report = await (await eslint.loadFormatter('stylish')).format(results);
if (report.trim()) console.log(report);
console.log(`scanner rules, inline disables ignored: ${results.length} files (${shippedCode.length} packed), ${errors} errors, ${warnings} warnings`);
if (errors) problems.push(`scanner lint: ${errors} errors`);

// ---------- 3. n8n's own Cloud eligibility check ----------

const cloudSupport = execFileSync('npx', ['--no', 'n8n-node', 'cloud-support'], {
	cwd: root,
	encoding: 'utf8',
	env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
	stdio: ['ignore', 'pipe', 'pipe'],
});
const eligible = /Cloud support is ENABLED/.test(cloudSupport) && /Status: eligible/.test(cloudSupport);
console.log(`n8n-node cloud-support: ${eligible ? 'eligible for n8n Cloud verification' : 'NOT eligible'}`);
if (!eligible) problems.push(`n8n-node cloud-support does not report the package eligible:\n${cloudSupport}`);

for (const problem of problems) console.error(`✖ ${problem}`);
process.exit(problems.length ? 1 : 0);
