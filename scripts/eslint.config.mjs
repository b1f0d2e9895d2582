// Lint rules for the tools in scripts/ and, re-exported, for test/: code that runs on a developer's
// machine and in CI, never inside n8n. n8n's own config for nodes that skip n8n Cloud
// (`configWithoutCloudSupport` from @n8n/node-cli: no limits on process, timers, files, imports),
// with the rules that only make sense inside a node switched off.
//
// ESLint 9 uses this file for files below scripts/ only when it looks configs up from each linted
// file (flag `unstable_config_lookup_from_file`, the default from ESLint 10); `npm run lint` sets it.
// Without the flag `eslint .` applies the root config (n8n's, cloud rules included) to these files too.
// Taken from @n8n/node-cli like the root config, so both load n8n's rule plugin the same way (Node 20
// crashes when one config import()s that ES module while the other require()s it).
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{
		files: ['**/*.ts'],
		rules: {
			// Tools and tests report on the console, and hold test tokens and subprocess calls.
			'no-console': 'off',
			'@n8n/community-nodes/no-dangerous-functions': 'off',
			'@n8n/community-nodes/no-hardcoded-secrets': 'off',
			// There is no node to attach a NodeApiError to.
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
];
