import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
	const packDir = process.env.BRIA_E2E_PACK_DIR;
	if (packDir) await rm(packDir, { recursive: true, force: true });
}
