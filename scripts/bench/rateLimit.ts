/**
 * Part 3: 20 items against a simulator limited to 10 requests per minute per endpoint (sliding
 * 60 s window, 429 + Retry-After), once with default options and once with requestsPerMinute 10.
 * The two variants run side by side, each against its own simulator.
 */
import type { INodeParameters } from 'n8n-workflow';

import { runBriaNode } from '../../test/harness/runNode';
import { errorMessages, failedItems, generateImages, inputItems, keepConsole, progress } from './common';
import { SimProcess } from './simClient';
import type { RateLimitResult, RateLimitRow } from './types';

const LIMIT_PER_MINUTE = 10;
const ITEMS = 20;
const JOB_MS = 5_000;
/** Stops a run that would take longer than this (it then counts as failed): keeps the bench bounded. */
const RUN_LIMIT_MS = 9.5 * 60_000;

const VARIANTS: Array<{ variant: string; options: INodeParameters }> = [
	{ variant: 'default options', options: {} },
	{ variant: 'requestsPerMinute 10', options: { requestsPerMinute: LIMIT_PER_MINUTE } },
];

async function measureVariant(variant: string, options: INodeParameters): Promise<RateLimitRow> {
	const sim = await SimProcess.start({ jobMs: JOB_MS, rateLimitPerMinute: LIMIT_PER_MINUTE });
	try {
		const result = await runBriaNode({
			credentials: sim.credentials,
			items: inputItems(ITEMS),
			continueOnFail: true,
			cancelAfterMs: RUN_LIMIT_MS,
			parameters: generateImages('bench rate limit', { downloadImage: false, maxWaitTime: 900, ...options }),
		});
		const api = (await sim.log()).entries.filter((entry) => entry.host === 'api');
		const submits = api.filter((entry) => entry.route === 'submitImage');
		const status = api.filter((entry) => entry.route === 'status');
		// 429s within a second of each other (same route) form one burst.
		const firstAt = api[0]?.at ?? 0;
		const throttleBursts: RateLimitRow['throttleBursts'] = [];
		let lastAt = -Infinity;
		for (const entry of api.filter((e) => e.status === 429)) {
			const last = throttleBursts[throttleBursts.length - 1];
			if (last && last.route === entry.route && entry.at - lastAt <= 1_000) last.count++;
			else throttleBursts.push({ atS: (entry.at - firstAt) / 1000, route: entry.route ?? '?', count: 1 });
			lastAt = entry.at;
		}
		const row: RateLimitRow = {
			variant,
			options,
			items: ITEMS,
			failed: failedItems(result, ITEMS),
			wallMs: result.durationMs,
			cancelled: result.durationMs >= RUN_LIMIT_MS,
			requests: api.length,
			throttled: api.filter((entry) => entry.status === 429).length,
			submits: submits.length,
			submits429: submits.filter((entry) => entry.status === 429).length,
			statusCalls: status.length,
			status429: status.filter((entry) => entry.status === 429).length,
			throttleBursts,
			errors: errorMessages(result),
		};
		progress(`ratelimit: "${variant}" done in ${(row.wallMs / 1000).toFixed(0)} s (${row.throttled} × 429 of ${row.requests} requests, ${row.failed} failed)`);
		return row;
	} finally {
		await sim.stop();
	}
}

export async function measureRateLimit(): Promise<RateLimitResult> {
	progress(`ratelimit: ${ITEMS} items × ${JOB_MS / 1000} s jobs at ${LIMIT_PER_MINUTE} requests/minute, two variants side by side (several minutes)`);
	const restoreConsole = keepConsole();
	try {
		const rows = await Promise.all(VARIANTS.map(({ variant, options }) => measureVariant(variant, options)));
		return { limitPerMinute: LIMIT_PER_MINUTE, jobMs: JOB_MS, rows };
	} finally {
		restoreConsole();
	}
}
