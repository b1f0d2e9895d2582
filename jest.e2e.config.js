/**
 * End-to-end suite against a real n8n (`npm run test:e2e`): n8n is installed once (cached outside
 * the repo) and this package packed once in globalSetup; each test file gets its own private n8n.
 * One file at a time: each runs n8n processes of its own and the machine has few cores.
 */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.test.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
	globalSetup: '<rootDir>/test/e2e/globalSetup.ts',
	globalTeardown: '<rootDir>/test/e2e/globalTeardown.ts',
	testTimeout: 180_000,
	maxWorkers: 1,
	// n8n child processes are stopped in afterAll; this only guards against a stray handle.
	forceExit: true,
	verbose: true,
};
