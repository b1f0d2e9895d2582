/** Unit and engine tests: `npm test`. */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	// The fault matrix and the real-n8n suite have their own commands (test:faults, test:e2e).
	testPathIgnorePatterns: ['/node_modules/', '/test/e2e/', '/test/faults/'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
	testTimeout: 60_000,
	// n8n-core's DI services (SSH client cleanup, task scheduler) keep intervals running, as in a live n8n.
	forceExit: true,
};
