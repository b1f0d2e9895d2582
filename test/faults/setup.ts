import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Jest globalSetup: a fresh folder where each suite leaves its rows for report.ts (workers inherit the env). */
export default function setup(): void {
	process.env.BRIA_FAULTS_ROWS_DIR = mkdtempSync(path.join(tmpdir(), 'bria-faults-'));
	process.env.BRIA_FAULTS_STARTED_AT = String(Date.now());
}
