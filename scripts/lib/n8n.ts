/**
 * A real n8n, driven the way a user runs it: installed by scripts/install-n8n.sh (pinned version,
 * Node 24, cached outside the repo), this package packed with `npm pack` and installed into a fresh
 * private user folder exactly as n8n's Community Nodes installer does, then the n8n CLI for
 * imports and executions and `n8n start` for webhooks and the editor.
 *
 * Used by the e2e suite (test/e2e), `npm run demo`, `npm run dev` and `npm run screenshots`.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

import type { ChildProcess } from 'node:child_process';

import { exited, freePort, repoRoot, run, spawnManaged, stopGroup, tail, waitFor } from './processes';
import type { RunResult } from './processes';

export const DEFAULT_N8N_VERSION = '2.41.1';
export const DEFAULT_NODE24_VERSION = '24.21.0';
/** Fixed so credentials imported in one command decrypt in the next; these instances hold no secrets worth more. */
export const ENCRYPTION_KEY = 'n8n-nodes-bria-local-0123456789abcdef';
export const PACKAGE_NAME = 'n8n-nodes-bria';
export const NODE_TYPE = `${PACKAGE_NAME}.briaTailored`;
export const CREDENTIAL_TYPE = 'briaApi';

export type Log = (text: string) => void;
const toStderr: Log = (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

// ---------- install ----------

export interface N8nInstall {
	version: string;
	major: number;
	cacheDir: string;
	/** Folder holding Node 24's `node`; put first on PATH for every n8n process. */
	nodeBinDir: string;
	n8nBin: string;
}

/**
 * Installs (first time: a few minutes) or reuses the pinned n8n, streaming the script's progress.
 * N8N_VERSION / NODE24_VERSION / N8N_CACHE_DIR in the environment pick another version or cache.
 */
export async function installN8n(options: { version?: string; log?: Log; timeoutMs?: number } = {}): Promise<N8nInstall> {
	const log = options.log ?? toStderr;
	const version = options.version ?? (process.env.N8N_VERSION?.trim() || DEFAULT_N8N_VERSION);
	const nodeVersion = process.env.NODE24_VERSION?.trim() || DEFAULT_NODE24_VERSION;
	const script = path.join(repoRoot(), 'scripts', 'install-n8n.sh');
	const started = Date.now();
	const result = await run('bash', [script], {
		env: { ...process.env, N8N_VERSION: version, NODE24_VERSION: nodeVersion },
		timeoutMs: options.timeoutMs ?? 20 * 60_000,
		// The script reports progress on stderr: pass it through as it comes.
		onStderr: (chunk) => log(chunk),
	});
	const cacheDir = result.stdout.trim().split('\n').pop()?.trim() ?? '';
	const install: N8nInstall = {
		version,
		major: Number(version.split('.')[0]),
		cacheDir,
		nodeBinDir: path.join(cacheDir, `node-${nodeVersion}`, 'node_modules', '.bin'),
		n8nBin: path.join(cacheDir, `n8n-${version}`, 'node_modules', '.bin', 'n8n'),
	};
	for (const file of [path.join(install.nodeBinDir, 'node'), install.n8nBin])
		if (!existsSync(file)) throw new Error(`install-n8n.sh finished but ${file} is missing (stdout: ${result.stdout.trim()})`);
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	log(`[n8n] n8n ${version} ready (${seconds} s)\n`);
	return install;
}

// ---------- package ----------

/** Packs the built package with `npm pack` into `destDir` (builds first if dist/ is missing). */
export async function packPackage(destDir: string, log: Log = toStderr): Promise<string> {
	const root = repoRoot();
	if (!existsSync(path.join(root, 'dist', 'nodes', 'BriaTailored', 'BriaTailored.node.js'))) {
		log('[n8n] dist/ missing: running npm run build…\n');
		await run('npm', ['run', 'build'], { cwd: root, timeoutMs: 5 * 60_000 });
	}
	mkdirSync(destDir, { recursive: true });
	// --ignore-scripts: prepack would rebuild; the callers (npm scripts) have just built.
	const result = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destDir], {
		cwd: root,
		timeoutMs: 2 * 60_000,
	});
	const json = result.stdout.slice(result.stdout.indexOf('['));
	const [packed] = JSON.parse(json) as Array<{ filename: string }>;
	const tarball = path.join(destDir, packed.filename);
	if (!existsSync(tarball)) throw new Error(`npm pack reported ${packed.filename} but ${tarball} does not exist`);
	return tarball;
}

/**
 * Installs a packed tarball into `<userFolder>/.n8n/nodes` the way n8n's community package
 * installer does: unpack into node_modules/<name>, drop dev/peer/optional dependencies, `npm install`
 * what is left with n8n's flags, and record the package in the folder's package.json.
 */
export async function installPackage(userFolder: string, tarball: string): Promise<{ name: string; version: string; dir: string }> {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const manifest = JSON.parse(
		(await run('tar', ['-xzOf', tarball, 'package/package.json'], { timeoutMs: 30_000 })).stdout,
	) as Record<string, unknown> & { name: string; version: string };
	const dir = path.join(nodesDir, 'node_modules', manifest.name);
	mkdirSync(dir, { recursive: true });
	await run('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1'], { timeoutMs: 60_000 });
	const installed: Record<string, unknown> = { ...manifest };
	for (const key of ['devDependencies', 'peerDependencies', 'optionalDependencies']) delete installed[key];
	writeFileSync(path.join(dir, 'package.json'), JSON.stringify(installed, null, 2));
	await run(
		'npm',
		['install', '--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false'],
		{ cwd: dir, timeoutMs: 3 * 60_000 },
	);
	const nodesManifest = path.join(nodesDir, 'package.json');
	const current = existsSync(nodesManifest)
		? (JSON.parse(readFileSync(nodesManifest, 'utf8')) as { dependencies?: Record<string, string> })
		: {};
	writeFileSync(
		nodesManifest,
		JSON.stringify({ name: 'installed-nodes', private: true, ...current, dependencies: { ...current.dependencies, [manifest.name]: manifest.version } }, null, 2),
	);
	return { name: manifest.name, version: manifest.version, dir };
}

// ---------- workflow and credential files ----------

export interface WorkflowNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
	webhookId?: string;
	onError?: 'continueRegularOutput' | 'continueErrorOutput' | 'stopWorkflow';
	/** The node settings Retry On Fail, Max Tries, Wait Between Tries (ms), as the editor saves them. */
	retryOnFail?: boolean;
	maxTries?: number;
	waitBetweenTries?: number;
	disabled?: boolean;
	notes?: string;
}

export interface Connection {
	node: string;
	type: 'main';
	index: number;
}

export interface WorkflowFile {
	id: string;
	name: string;
	active?: boolean;
	nodes: WorkflowNode[];
	connections: Record<string, { main: Connection[][] }>;
	settings?: Record<string, unknown>;
	pinData?: Record<string, unknown>;
	meta?: Record<string, unknown>;
	tags?: unknown[];
}

export interface CredentialFile {
	id: string;
	name: string;
	type: string;
	data: Record<string, unknown>;
}

// ---------- executions ----------

export interface BinaryRef {
	mimeType: string;
	fileName?: string;
	fileExtension?: string;
	fileSize?: string;
	bytes?: number;
	/** Base64 content in memory mode, or a mode marker such as "filesystem-v2". */
	data: string;
	/** `<mode>:<path>` when the bytes live in a binary data store. */
	id?: string;
}

export interface Item {
	json: Record<string, unknown>;
	binary?: Record<string, BinaryRef>;
	pairedItem?: unknown;
	error?: unknown;
}

interface TaskData {
	executionStatus?: string;
	error?: { message?: string; description?: string };
	data?: { main?: Array<Item[] | null> };
}

/** What `n8n execute --rawOutput` prints: the run's data. */
export interface RawRun {
	data: {
		resultData: {
			runData: Record<string, TaskData[]>;
			lastNodeExecuted?: string;
			error?: { message?: string; description?: string; node?: { name?: string } };
		};
	};
	status?: string;
	finished?: boolean;
}

export class Execution {
	constructor(
		readonly raw: RawRun,
		private readonly instance: N8nInstance,
		readonly output: string,
	) {}

	/** The workflow's error, when it failed (a node without Continue On Fail threw). */
	get error(): { message?: string; description?: string; node?: { name?: string } } | undefined {
		return this.raw.data.resultData.error;
	}

	get nodesRun(): string[] {
		return Object.keys(this.raw.data.resultData.runData);
	}

	/** Items a node emitted on an output (first run unless `runIndex` says otherwise). */
	items(nodeName: string, outputIndex = 0, runIndex = 0): Item[] {
		const runs = this.raw.data.resultData.runData[nodeName];
		if (!runs?.[runIndex]) throw new Error(`node "${nodeName}" did not run (ran: ${this.nodesRun.join(', ')})`);
		return runs[runIndex].data?.main?.[outputIndex] ?? [];
	}

	/** The bytes of a binary output field, wherever this n8n stores them. */
	binary(ref: BinaryRef): Buffer {
		return this.instance.readBinary(ref);
	}
}

/** The run JSON from `execute --rawOutput`: log lines come first, the pretty-printed JSON after. */
export function parseRawOutput(stdout: string): RawRun | undefined {
	const lines = stdout.split('\n');
	const start = lines.findIndex((line) => line.startsWith('{'));
	if (start === -1) return undefined;
	// JSON.stringify(…, null, 2) closes with a "}" line at column 0; more log lines may follow it.
	for (let end = start; end < lines.length; end++) {
		if (lines[end] !== '}') continue;
		try {
			return JSON.parse(lines.slice(start, end + 1).join('\n')) as RawRun;
		} catch {
			/* a "}" inside a string value: keep looking */
		}
	}
	return undefined;
}

// ---------- queue mode ----------

/** Where a queue-mode n8n finds its queue (Redis) and its database (Postgres): see scripts/lib/services.ts. */
export interface QueueBackends {
	redisPort: number;
	postgres: { port: number; database: string; user: string; password: string };
}

/**
 * n8n's scaling mode, for every process of one instance (main, workers and CLI commands alike):
 * executions go through the Bull queue in Redis, the database is Postgres (what n8n supports
 * there), and binary data lives in the database, the mode n8n 2.x picks by itself in queue mode
 * (the filesystem is not shared between processes; S3 needs a licence). Stated, not left implicit.
 */
export function queueModeEnv(backends: QueueBackends): Record<string, string> {
	return {
		EXECUTIONS_MODE: 'queue',
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: '127.0.0.1',
		DB_POSTGRESDB_PORT: String(backends.postgres.port),
		DB_POSTGRESDB_DATABASE: backends.postgres.database,
		DB_POSTGRESDB_USER: backends.postgres.user,
		DB_POSTGRESDB_PASSWORD: backends.postgres.password,
		QUEUE_BULL_REDIS_HOST: '127.0.0.1',
		QUEUE_BULL_REDIS_PORT: String(backends.redisPort),
		N8N_DEFAULT_BINARY_DATA_MODE: 'database',
	};
}

// ---------- a private n8n instance ----------

export interface InstanceOptions {
	install: N8nInstall;
	tarball: string;
	/** Port for `n8n start` (default: a free one). */
	port?: number;
	/** Extra environment for every n8n process of this instance. */
	env?: Record<string, string>;
	/** Keep the user folder on dispose (for debugging). Default: BRIA_E2E_KEEP=1. */
	keep?: boolean;
	log?: Log;
}

export interface Owner {
	email: string;
	password: string;
	firstName: string;
	lastName: string;
}

/** A logged-in owner: the headers to send with REST calls (`/rest/...`). */
export interface OwnerSession {
	headers: { cookie: string; 'browser-id': string };
}

export const DEFAULT_OWNER: Owner = {
	email: 'owner@example.com',
	password: 'Bria-n8n-local-1',
	firstName: 'Local',
	lastName: 'Owner',
};

export class N8nInstance {
	readonly baseUrl: string;
	/** Workflows imported into this instance, and those published (activate) for the next `n8n start`. */
	private readonly imported = new Map<string, WorkflowFile>();
	private readonly published = new Set<string>();

	private constructor(
		readonly install: N8nInstall,
		readonly userFolder: string,
		readonly port: number,
		private readonly extraEnv: Record<string, string>,
		private readonly keep: boolean,
		private readonly log: Log,
	) {
		this.baseUrl = `http://127.0.0.1:${port}`;
	}

	/** A fresh private user folder (mkdtemp) with the packed package installed into it. */
	static async create(options: InstanceOptions): Promise<N8nInstance> {
		const userFolder = realpathSync(await mkdtemp(path.join(tmpdir(), 'n8n-bria-')));
		await installPackage(userFolder, options.tarball);
		return new N8nInstance(
			options.install,
			userFolder,
			options.port ?? (await freePort()),
			options.env ?? {},
			options.keep ?? process.env.BRIA_E2E_KEEP === '1',
			options.log ?? toStderr,
		);
	}

	/** The environment of every n8n process: private, quiet, offline-friendly. */
	async env(): Promise<NodeJS.ProcessEnv> {
		// Settings of a developer's own n8n must not leak in (DB, folders, ports…), nor jest's
		// NODE_ENV=test, which switches n8n into its own unit-test mode (silent CLI, no imports).
		const inherited = Object.fromEntries(
			Object.entries(process.env).filter(([key]) => !/^(N8N_|DB_|EXECUTIONS_|QUEUE_|WEBHOOK_URL$|NODE_OPTIONS$|NODE_ENV$)/.test(key)),
		);
		return {
			...inherited,
			PATH: `${this.install.nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}`,
			N8N_USER_FOLDER: this.userFolder,
			N8N_ENCRYPTION_KEY: ENCRYPTION_KEY,
			N8N_PORT: String(this.port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_PROTOCOL: 'http',
			N8N_SECURE_COOKIE: 'false',
			DB_TYPE: 'sqlite',
			// Every n8n process (CLI commands too) opens a task broker: give each its own port so
			// two instances, or a CLI command beside `n8n start`, never collide on 5679.
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
			// 1.x still runs Code nodes in-process when asked; 2.x always uses runners and warns about the variable.
			// 1.x keeps binary data in memory by default, so `n8n execute --rawOutput` would print every
			// image as base64 and exit before the pipe has taken the megabytes: use 2.x's default store.
			...(this.install.major < 2 ? { N8N_RUNNERS_ENABLED: 'false', N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem' } : {}),
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
			N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
			GENERIC_TIMEZONE: 'UTC',
			...this.extraEnv,
		};
	}

	/** Runs one n8n CLI command against this instance. */
	async cli(args: string[], options: { timeoutMs?: number; check?: boolean } = {}): Promise<RunResult> {
		return await run(this.install.n8nBin, args, {
			env: await this.env(),
			cwd: this.userFolder,
			timeoutMs: options.timeoutMs ?? 120_000,
			check: options.check,
		});
	}

	private writeImportFile(kind: string, content: unknown): string {
		const dir = path.join(this.userFolder, 'imports');
		mkdirSync(dir, { recursive: true });
		const file = path.join(dir, `${kind}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.json`);
		writeFileSync(file, JSON.stringify(content, null, 2));
		return file;
	}

	async importCredentials(credentials: CredentialFile[]): Promise<RunResult> {
		const file = this.writeImportFile('credentials', credentials);
		const result = await this.cli(['import:credentials', `--input=${file}`]);
		if (!/Successfully imported/i.test(result.stdout + result.stderr))
			throw new Error(`import:credentials did not confirm the import:\n${tail(result.stdout + result.stderr)}`);
		return result;
	}

	/** Imports workflows (one CLI call for all of them). n8n imports them inactive. */
	async importWorkflows(workflows: WorkflowFile[]): Promise<RunResult> {
		const file = this.writeImportFile('workflows', workflows);
		const result = await this.cli(['import:workflow', `--input=${file}`]);
		const output = result.stdout + result.stderr;
		if (!/Successfully imported/i.test(output)) throw new Error(`import:workflow did not confirm the import:\n${tail(output)}`);
		for (const workflow of workflows) this.imported.set(workflow.id, workflow);
		return result;
	}

	/** Makes a webhook/form workflow live at the next `n8n start`: 2.x publishes it, 1.x sets it active. */
	async activate(workflowId: string): Promise<RunResult> {
		const result =
			this.install.major >= 2
				? await this.cli(['publish:workflow', `--id=${workflowId}`])
				: await this.cli(['update:workflow', `--id=${workflowId}`, '--active=true']);
		this.published.add(workflowId);
		return result;
	}

	/**
	 * Production paths of the webhook and form triggers of the workflows published for `n8n start`
	 * (`webhook/<path>`, `form/<path>`); paths with parameters (`:id`) are left out.
	 */
	private publishedTriggerPaths(): string[] {
		const prefixes: Record<string, string> = { 'n8n-nodes-base.webhook': 'webhook', 'n8n-nodes-base.formTrigger': 'form' };
		return [...this.published].flatMap((id) =>
			(this.imported.get(id)?.nodes ?? [])
				.filter((node) => prefixes[node.type] && !node.disabled)
				.map((node) => ({ prefix: prefixes[node.type], path: String(triggerPathOf(node) ?? '') }))
				.filter(({ path: triggerPath }) => triggerPath && !triggerPath.includes(':'))
				.map(({ prefix, path: triggerPath }) => `${prefix}/${triggerPath.replace(/^\/+/, '')}`),
		);
	}

	/** `n8n execute --id --rawOutput`: runs a Manual Trigger workflow to its end and returns its run data. */
	async execute(workflowId: string, options: { timeoutMs?: number } = {}): Promise<Execution> {
		const result = await this.cli(['execute', `--id=${workflowId}`, '--rawOutput'], {
			timeoutMs: options.timeoutMs ?? 120_000,
			check: false, // a failed workflow exits non-zero but still prints its run data
		});
		const raw = parseRawOutput(result.stdout) ?? parseRawOutput(`${result.stdout}\n${result.stderr}`);
		if (!raw?.data?.resultData)
			throw new Error(`n8n execute --id=${workflowId} printed no run data (exit ${result.code}):\n${tail(result.stdout + result.stderr)}`);
		return new Execution(raw, this, `${result.stdout}\n${result.stderr}`);
	}

	/** Bytes of a binary reference from this instance's run data (memory mode or a filesystem store). */
	readBinary(ref: BinaryRef): Buffer {
		const match = ref.id ? /^([a-z0-9-]+):(.+)$/i.exec(ref.id) : null;
		if (!match) return Buffer.from(ref.data, 'base64');
		const [, mode, relative] = match;
		if (!mode.startsWith('filesystem')) throw new Error(`binary data mode "${mode}" is not readable from disk`);
		const roots = [path.join(this.userFolder, '.n8n', 'storage'), path.join(this.userFolder, '.n8n', 'binaryData')];
		for (const root of roots) {
			const file = path.join(root, relative);
			// Never follow an id outside the instance's own folder.
			if (file.startsWith(root + path.sep) && existsSync(file)) return readFileSync(file);
		}
		throw new Error(`binary data ${ref.id} not found under ${roots.join(' or ')}`);
	}

	/** `n8n start`: resolves once the instance is ready and its published workflows are live. */
	async start(options: { timeoutMs?: number } = {}): Promise<RunningN8n> {
		const lines: string[] = [];
		const keep = (chunk: string) => {
			lines.push(...chunk.split('\n').filter(Boolean));
			if (lines.length > 2_000) lines.splice(0, lines.length - 2_000);
		};
		const child = spawnManaged(this.install.n8nBin, ['start'], {
			env: await this.env(),
			cwd: this.userFolder,
			onStdout: keep,
			onStderr: keep,
		});
		const running = new RunningN8n(child, this.baseUrl, lines);
		const timeoutMs = options.timeoutMs ?? 120_000;
		let died = false;
		void exited(child).then(() => (died = true));
		let ready = false;
		try {
			await waitFor(`n8n start on ${this.baseUrl}`, timeoutMs, async () => {
				if (died) throw new Error(`n8n start exited (code ${child.exitCode}):\n${tail(lines.join('\n'))}`);
				// Readiness answers ok once the DB and server are up; the "Editor is now accessible"
				// line comes at the end of n8n's start.
				if (!lines.some((line) => line.includes('Editor is now accessible'))) return undefined;
				return (await httpOk(`${this.baseUrl}/healthz/readiness`)) ? true : undefined;
			});
			// n8n 2.41 registers the published workflows' triggers in the background, after "Editor is
			// now accessible" (its workflow publication service); 2.35 and 1.x did it before that line.
			// So wait until every published webhook and form path is registered: a CORS preflight
			// (OPTIONS with an Origin) lists the path's methods once it is, only OPTIONS before, and
			// runs nothing.
			const triggerPaths = this.publishedTriggerPaths();
			await waitFor(`n8n to register ${triggerPaths.join(', ')}`, timeoutMs, async () => {
				if (died) throw new Error(`n8n start exited (code ${child.exitCode}):\n${tail(lines.join('\n'))}`);
				const registered = await Promise.all(triggerPaths.map(async (triggerPath) => await webhookRegistered(`${this.baseUrl}/${triggerPath}`)));
				return registered.every(Boolean) ? true : undefined;
			});
			ready = true;
		} finally {
			// Never leave a half-started n8n behind.
			if (!ready) await running.stop();
		}
		return running;
	}

	/**
	 * `n8n worker` (queue mode: give the instance `queueModeEnv` first): resolves once the worker
	 * is ready. Each worker gets its own task-broker port (from env()) and health-check port, so
	 * several run beside the main on one machine. `env` is added for this worker only.
	 */
	async startWorker(options: { concurrency?: number; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunningN8n> {
		const lines: string[] = [];
		const keep = (chunk: string) => {
			lines.push(...chunk.split('\n').filter(Boolean));
			if (lines.length > 2_000) lines.splice(0, lines.length - 2_000);
		};
		const healthPort = await freePort();
		const child = spawnManaged(this.install.n8nBin, ['worker', `--concurrency=${options.concurrency ?? 10}`], {
			env: { ...(await this.env()), QUEUE_HEALTH_CHECK_ACTIVE: 'true', QUEUE_HEALTH_CHECK_PORT: String(healthPort), ...options.env },
			cwd: this.userFolder,
			onStdout: keep,
			onStderr: keep,
		});
		const worker = new RunningN8n(child, `http://127.0.0.1:${healthPort}`, lines);
		let died = false;
		void exited(child).then(() => (died = true));
		let ready = false;
		try {
			await waitFor(`n8n worker (health port ${healthPort})`, options.timeoutMs ?? 120_000, async () => {
				if (died) throw new Error(`n8n worker exited (code ${child.exitCode}):\n${tail(lines.join('\n'))}`);
				return lines.some((line) => line.includes('n8n worker is now ready')) ? true : undefined;
			});
			ready = true;
		} finally {
			if (!ready) await worker.stop();
		}
		return worker;
	}

	/** Removes the user folder (kept when asked, to inspect a failure). */
	async dispose(): Promise<void> {
		if (this.keep) {
			this.log(`[n8n] kept user folder ${this.userFolder}\n`);
			return;
		}
		await rm(this.userFolder, { recursive: true, force: true });
	}
}

/** A trigger's path as n8n registers it: its Path, or the Form Trigger's Options → Path, else its webhook ID. */
function triggerPathOf(node: WorkflowNode): unknown {
	const options = node.parameters.options as { path?: unknown } | undefined;
	return node.parameters.path || options?.path || node.webhookId;
}

/** Whether n8n has a production webhook at `url`: its CORS preflight names a method besides OPTIONS. */
async function webhookRegistered(url: string): Promise<boolean> {
	try {
		const response = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1' }, signal: AbortSignal.timeout(2_000) });
		await response.arrayBuffer();
		const methods = (response.headers.get('access-control-allow-methods') ?? '').split(',').map((method) => method.trim());
		return response.status === 204 && methods.some((method) => method && method !== 'OPTIONS');
	} catch {
		return false;
	}
}

async function httpOk(url: string): Promise<boolean> {
	try {
		const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
		await response.arrayBuffer();
		return response.ok;
	} catch {
		return false; // not listening yet
	}
}

export class RunningN8n {
	constructor(
		readonly child: ChildProcess,
		readonly baseUrl: string,
		private readonly lines: string[],
	) {}

	/** n8n's console output so far (last 2000 lines). */
	output(): string {
		return this.lines.join('\n');
	}

	/**
	 * Creates the instance owner through n8n's REST API (what the first-run setup page does) and
	 * returns the owner's session. n8n binds the session cookie to the `browser-id` header sent
	 * with it, so REST calls made with the session send both (`session.headers`).
	 */
	async setupOwner(owner: Owner = DEFAULT_OWNER): Promise<OwnerSession> {
		const browserId = randomUUID();
		const response = await fetch(`${this.baseUrl}/rest/owner/setup`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'browser-id': browserId },
			body: JSON.stringify(owner),
			signal: AbortSignal.timeout(15_000),
		});
		const text = await response.text();
		if (!response.ok) throw new Error(`owner setup failed: HTTP ${response.status} ${text.slice(0, 500)}`);
		const cookie = response.headers
			.getSetCookie()
			.map((header) => header.split(';')[0])
			.join('; ');
		return { headers: { cookie, 'browser-id': browserId } };
	}

	/** Stops n8n and everything it started (SIGTERM, then SIGKILL after a grace period). */
	async stop(): Promise<void> {
		await stopGroup(this.child, 15_000);
	}
}
