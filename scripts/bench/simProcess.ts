/**
 * Child-process entry of the benchmark: one BriaSimulator outside the measured process, so its
 * CPU and memory never count against the node. Options arrive as JSON in argv[2]; the parent
 * (simClient.ts) talks to it over the IPC channel. It exits when the parent goes away, and in
 * any case after its lifetime.
 */
import { BriaSimulator } from '../../test/simulator/BriaSimulator';
import type { SimLog, SimMessage, SimRequest, SimStartArgs } from './types';

function send(message: SimMessage): void {
	process.send?.(message);
}

function snapshot(sim: BriaSimulator): SimLog {
	return {
		entries: sim.log.map(({ host, route, status, at, requestId, jobStatus }) => ({ host, route, status, at, requestId, jobStatus })),
		jobs: [...sim.jobs.values()].map((job) => ({
			id: job.id,
			createdAt: job.createdAt,
			durationMs: job.durationMs,
			prompt: typeof job.body.prompt === 'string' ? job.body.prompt : undefined,
			downloads: job.downloads,
		})),
	};
}

async function main(): Promise<void> {
	const args = JSON.parse(process.argv[2] ?? '{}') as SimStartArgs;
	const sim = await BriaSimulator.start(args.options);
	let stopping = false;
	const stop = (code: number) => {
		if (stopping) return;
		stopping = true;
		setTimeout(() => process.exit(code), 2_000).unref();
		void sim.stop().finally(() => process.exit(code));
	};
	setTimeout(() => stop(3), args.lifetimeMs).unref();
	process.on('disconnect', () => stop(0));
	process.on('message', (request: SimRequest) => {
		switch (request.type) {
			case 'plan':
				sim.planJobs(...request.plans);
				return send({ type: 'reply', id: request.id, ok: true });
			case 'log':
				return send({ type: 'reply', id: request.id, ok: true, data: snapshot(sim) });
			case 'stop':
				send({ type: 'reply', id: request.id, ok: true });
				return stop(0);
			default:
				return send({ type: 'reply', id: (request as { id: number }).id, ok: false, error: 'unknown request' });
		}
	});
	send({ type: 'ready', baseUrl: sim.baseUrl, imageBaseUrl: sim.imageBaseUrl, token: sim.options.token });
}

main().catch((error: unknown) => {
	process.stderr.write(`bench simulator failed: ${(error as Error)?.message ?? String(error)}\n`);
	process.exit(1);
});
