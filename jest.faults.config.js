/**
 * Fault matrix: `npm run test:faults`. Drives the node inside n8n's engine against the Bria
 * simulator's injected faults and bad inputs, checks the shared invariants on every case, then
 * prints the figures table and writes it to docs/RELIABILITY.md (test/faults/report.ts).
 * Suites are named *.faults.ts so that `npm test` (which runs *.test.ts) does not pick them up.
 */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test/faults'],
	testMatch: ['**/*.faults.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
	globalSetup: '<rootDir>/test/faults/setup.ts',
	globalTeardown: '<rootDir>/test/faults/report.ts',
	testTimeout: 60_000,
	// Two workers (one per core) halve the wall time; each suite has its own simulator and ports.
	maxWorkers: 2,
	// n8n-core's DI services (SSH client cleanup, task scheduler) keep intervals running, as in a live n8n.
	forceExit: true,
};
