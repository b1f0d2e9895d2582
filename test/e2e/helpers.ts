/**
 * Shared pieces of the real-n8n suite: the n8n install and tarball prepared by globalSetup, a
 * private instance per test file, and checks on the simulator's request log.
 */
import { N8nInstance } from '../../scripts/lib/n8n';
import type { BinaryRef, Execution, Item, N8nInstall } from '../../scripts/lib/n8n';
import { pngDimensions } from '../simulator/BriaSimulator';
import type { BriaSimulator, LogEntry, Route } from '../simulator/BriaSimulator';

/** Distinctive, so a leak shows up in a plain substring search of any output. */
export const TOKEN = 'e2e-token-Qw73-must-not-leak';

/** Generous: the first hook of a fresh CI machine may wait for the n8n install in globalSetup. */
export const SETUP_TIMEOUT_MS = 5 * 60_000;

export function sharedInstall(): { install: N8nInstall; tarball: string } {
	const install = process.env.BRIA_E2E_N8N;
	const tarball = process.env.BRIA_E2E_TARBALL;
	if (!install || !tarball) throw new Error('run through jest -c jest.e2e.config.js: globalSetup prepares n8n and the tarball');
	return { install: JSON.parse(install) as N8nInstall, tarball };
}

/** A private n8n with the packed package installed, as a user's Community Nodes install would have it. */
export async function newInstance(): Promise<N8nInstance> {
	const { install, tarball } = sharedInstall();
	return await N8nInstance.create({ install, tarball });
}

/** Requests the simulator answered on one route, in arrival order. */
export function requestsTo(sim: BriaSimulator, route: Route): LogEntry[] {
	return sim.requests(route);
}

/** Accepted submits (202) of one kind, in arrival order. */
export function acceptedSubmits(sim: BriaSimulator, route: 'submitImage' | 'submitStructuredPrompt'): LogEntry[] {
	return sim.requests(route).filter((entry) => entry.status === 202 || entry.status === 200);
}

export function body(entry: LogEntry): Record<string, unknown> {
	return entry.body as Record<string, unknown>;
}

function headerValue(entry: LogEntry, name: string): string | undefined {
	const value = entry.headers[name];
	return Array.isArray(value) ? value[0] : value;
}

/**
 * The token goes to the API host on every request and never to the images host; API requests
 * name the package in their User-Agent. Returns the number of requests checked.
 */
export function expectTokenOnlyOnApiHost(sim: BriaSimulator, token = TOKEN): number {
	const log = sim.requests();
	for (const entry of log) {
		const where = `${entry.host} ${entry.method} ${entry.path}`;
		if (entry.host === 'api') {
			expect({ where, token: headerValue(entry, 'api_token') }).toEqual({ where, token });
			expect({ where, ua: headerValue(entry, 'user-agent') }).toEqual({ where, ua: expect.stringContaining('n8n-nodes-bria') });
		} else {
			expect({ where, token: headerValue(entry, 'api_token') }).toEqual({ where, token: undefined });
		}
	}
	return log.length;
}

/** The binary field's bytes, checked to be a PNG; returns them with the image size. */
export function pngOf(execution: Execution, item: Item, field = 'data'): { bytes: Buffer; width: number; height: number; ref: BinaryRef } {
	const ref = item.binary?.[field];
	if (!ref) throw new Error(`no binary field "${field}" on item ${JSON.stringify(Object.keys(item.binary ?? {}))}`);
	expect(ref.mimeType).toBe('image/png');
	expect(ref.fileName).toMatch(/^bria-[A-Za-z0-9_-]+\.png$/);
	const bytes = execution.binary(ref);
	const size = pngDimensions(bytes);
	if (!size) throw new Error(`binary field "${field}" is not a PNG (${bytes.length} bytes)`);
	return { bytes, ref, ...size };
}

/** The largest number of jobs in flight at once, from submit to image download. */
export function maxInFlight(sim: BriaSimulator): number {
	const downloads = new Map(sim.requests('image').map((entry) => [entry.requestId, entry.at]));
	const spans = acceptedSubmits(sim, 'submitImage').map((entry) => [entry.at, downloads.get(entry.requestId) ?? Infinity] as const);
	let max = 0;
	for (const [start] of spans) {
		const open = spans.filter(([s, end]) => s <= start && end > start).length;
		max = Math.max(max, open);
	}
	return max;
}
