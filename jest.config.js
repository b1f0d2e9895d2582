/** Unit and engine tests: `npm test`. The real-n8n suite has its own config (jest.e2e.config.js). */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
	testTimeout: 60_000,
	// n8n-core's DI services (SSH client cleanup, task scheduler) keep intervals running, as in a live n8n.
	forceExit: true,
};
