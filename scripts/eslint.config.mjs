// Lint rules for the tools in scripts/ and, re-exported, for test/: code that runs on a developer's
// machine and in CI, never inside n8n. ESLint's and typescript-eslint's recommended rules and n8n's
// community-node rules, without n8n Cloud's limits on what a node may touch (process, timers, the
// file system, child processes, hard-coded tokens in fixtures) and its error classes.
//
// ESLint 9 uses this file for files below scripts/ only when it looks configs up from each linted
// file (flag `unstable_config_lookup_from_file`, the default from ESLint 10); `npm run lint` sets it.
// Without the flag `eslint .` applies the root config (n8n's, cloud rules included) to these files too.
import eslint from '@eslint/js';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import tseslint from 'typescript-eslint';

export default tseslint.config(
	{
		files: ['**/*.ts'],
		extends: [eslint.configs.recommended, tseslint.configs.recommended],
		rules: { 'prefer-spread': 'off' },
	},
	{
		files: ['**/*.ts'],
		...n8nCommunityNodesPlugin.configs.recommended,
	},
	{
		files: ['**/*.ts'],
		rules: {
			'@n8n/community-nodes/no-restricted-globals': 'off',
			'@n8n/community-nodes/no-restricted-imports': 'off',
			'@n8n/community-nodes/no-dangerous-functions': 'off',
			'@n8n/community-nodes/no-hardcoded-secrets': 'off',
			// Tools and tests have no node to attach a NodeApiError to.
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
);
