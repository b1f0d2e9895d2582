/**
 * Throwaway Redis and PostgreSQL servers for n8n's queue mode: Debian's packages (installed by
 * scripts/install-services.sh when missing), each on 127.0.0.1, on a free port, with a fresh data
 * folder that `stop()` removes again. Nothing is shared with a system-wide server, if one exists.
 *
 * Used by the queue-mode e2e test (test/e2e/queueMode.test.ts).
 */
import { chownSync, mkdtempSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

import type { ChildProcess } from 'node:child_process';

import { exited, freePort, portInUse, repoRoot, run, spawnManaged, stopGroup, tail, waitFor } from './processes';

type Log = (text: string) => void;
const toStderr: Log = (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

export interface ServiceBinaries {
	redisServer: string;
	/** Debian's PostgreSQL bin folder (initdb, postgres, psql…). */
	postgresBin: string;
}

/** Installs Debian's redis-server and postgresql when missing (apt-get) and returns where they are. */
export async function installServices(log: Log = toStderr): Promise<ServiceBinaries> {
	const result = await run('bash', [path.join(repoRoot(), 'scripts', 'install-services.sh')], {
		timeoutMs: 10 * 60_000,
		onStderr: (chunk) => log(chunk),
	});
	const value = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(result.stdout)?.[1]?.trim();
	const redisServer = value('redis-server');
	const postgresBin = value('postgres-bin');
	if (!redisServer || !postgresBin) throw new Error(`install-services.sh did not name the binaries:\n${result.stdout}`);
	return { redisServer, postgresBin };
}

/** One running server: where it listens, its output, and how to stop it and remove its data. */
export class Service {
	constructor(
		readonly name: string,
		readonly port: number,
		private readonly child: ChildProcess,
		private readonly dataDir: string,
		private readonly lines: string[],
	) {}

	output(): string {
		return this.lines.join('\n');
	}

	/** Stops the server (SIGTERM, then SIGKILL) and removes its data folder. */
	async stop(): Promise<void> {
		await stopGroup(this.child, 10_000);
		await rm(this.dataDir, { recursive: true, force: true });
	}
}

function collect(lines: string[]) {
	return (chunk: string) => {
		lines.push(...chunk.split('\n').filter(Boolean));
		if (lines.length > 500) lines.splice(0, lines.length - 500);
	};
}

async function untilListening(name: string, port: number, child: ChildProcess, lines: string[], timeoutMs = 60_000): Promise<void> {
	let died = false;
	void exited(child).then(() => (died = true));
	await waitFor(`${name} on 127.0.0.1:${port}`, timeoutMs, async () => {
		if (died) throw new Error(`${name} exited (code ${child.exitCode}):\n${tail(lines.join('\n'))}`);
		return (await portInUse(port)) ? true : undefined;
	});
}

/** Redis on 127.0.0.1, in memory only (no RDB/AOF files), data folder removed on stop. */
export async function startRedis(binaries: ServiceBinaries): Promise<Service> {
	const dataDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'bria-redis-')));
	const port = await freePort();
	const lines: string[] = [];
	const child = spawnManaged(
		binaries.redisServer,
		['--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--daemonize', 'no'],
		{ onStdout: collect(lines), onStderr: collect(lines) },
	);
	const service = new Service('redis', port, child, dataDir, lines);
	try {
		await untilListening('redis-server', port, child, lines);
	} catch (error) {
		await service.stop();
		throw error;
	}
	return service;
}

export interface Postgres extends Service {
	user: string;
	password: string;
	database: string;
}

/**
 * PostgreSQL on 127.0.0.1 with a fresh cluster (initdb) holding one database. PostgreSQL refuses
 * to run as root, so as root it runs as Debian's `postgres` user (runuser), owning its folder.
 */
export async function startPostgres(binaries: ServiceBinaries, database = 'n8n'): Promise<Postgres> {
	const dataDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'bria-postgres-')));
	const asRoot = userInfo().uid === 0;
	const user = 'n8n';
	const password = 'n8n-local-only';
	if (asRoot) {
		const { stdout } = await run('id', ['-u', 'postgres'], { timeoutMs: 10_000 });
		const { stdout: gid } = await run('id', ['-g', 'postgres'], { timeoutMs: 10_000 });
		chownSync(dataDir, Number(stdout.trim()), Number(gid.trim()));
	}
	const as = (command: string, args: string[]): [string, string[]] =>
		asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
	const bin = (name: string) => path.join(binaries.postgresBin, name);
	const cluster = path.join(dataDir, 'data');
	const started = Date.now();
	try {
		// Trust on the loopback only: a private, throwaway cluster reachable from this machine alone.
		await run(...as(bin('initdb'), ['-D', cluster, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']), {
			timeoutMs: 120_000,
		});
	} catch (error) {
		await rm(dataDir, { recursive: true, force: true });
		throw error;
	}
	const port = await freePort();
	const lines: string[] = [];
	const child = spawnManaged(
		...as(bin('postgres'), [
			'-D', cluster,
			'-p', String(port),
			'-c', 'listen_addresses=127.0.0.1',
			'-c', `unix_socket_directories=${dataDir}`,
			// Throwaway data: no need to wait for the disk.
			'-c', 'fsync=off',
			'-c', 'synchronous_commit=off',
			'-c', 'full_page_writes=off',
		]),
		{ onStdout: collect(lines), onStderr: collect(lines) },
	);
	const service = Object.assign(new Service('postgres', port, child, dataDir, lines), { user, password, database }) as Postgres;
	try {
		await untilListening('postgres', port, child, lines);
		const psql = (sql: string) =>
			run(...as(bin('psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql]), {
				timeoutMs: 30_000,
			});
		// The server may accept connections a moment before it accepts queries.
		await waitFor('postgres to accept queries', 30_000, async () => (await psql('SELECT 1').then(() => true).catch(() => undefined)));
		await psql(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
		await psql(`CREATE DATABASE ${database} OWNER ${user}`);
	} catch (error) {
		await service.stop();
		throw error;
	}
	toStderr(`[services] postgres on 127.0.0.1:${port} ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
	return service;
}
