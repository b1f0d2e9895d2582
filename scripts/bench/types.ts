/** Shapes shared by the benchmark's orchestrator, its part workers and the simulator child process. */
import type { JobPlan, Route, SimOptions } from '../../test/simulator/BriaSimulator';

export const PART_NAMES = ['concurrency', 'lag', 'ratelimit', 'cpu', 'memory', 'burst'] as const;
export type PartName = (typeof PART_NAMES)[number];

/** Parts bound by Bria's rate or by waiting, not by CPU: their variants run side by side, each in a fresh process. */
export const RATE_BOUND_PARTS = ['lag', 'ratelimit', 'burst'] as const;
export type RateBoundPart = (typeof RATE_BOUND_PARTS)[number];

/**
 * How the measured build paces requests: 'execution' (before issue 8: one pacer per execution,
 * the plan only as the node option) or 'organization' (one budget per organization and process,
 * the plan on the credential). Figures of 'execution' builds stay in the report as today's.
 */
export type Pacing = 'execution' | 'organization';

/** Where a run states the organization's plan (requests per minute per endpoint). */
export type PlanPlace = 'credential' | 'node option' | 'none';

/** Which build measured a rate-bound part's figures. */
export interface BuildStamp {
	pacing: Pacing;
	/** Short git commit, "+ uncommitted node changes" when nodes/ or credentials/ differed from it. */
	commit: string;
}

// ---------- simulator child process (IPC) ----------

export interface SimStartArgs {
	options: SimOptions;
	/** The child exits by itself after this long, whatever happens to its parent. */
	lifetimeMs: number;
}

export type SimRequest =
	| { id: number; type: 'plan'; plans: JobPlan[] }
	| { id: number; type: 'log' }
	| { id: number; type: 'stop' };

export type SimMessage =
	| { type: 'ready'; baseUrl: string; imageBaseUrl: string; token: string }
	| { type: 'reply'; id: number; ok: true; data?: unknown }
	| { type: 'reply'; id: number; ok: false; error: string };

/** The simulator's request log and jobs, trimmed to what the benchmark reads. */
export interface SimLog {
	entries: Array<{
		host: 'api' | 'images';
		route?: Route;
		status: number;
		/** Date.now() when the request arrived at the simulator. */
		at: number;
		requestId?: string;
		jobStatus?: string;
	}>;
	jobs: Array<{ id: string; createdAt: number; durationMs: number; prompt?: string; downloads: number }>;
}

// ---------- part results ----------

export interface ConcurrencyRun {
	level: 'sequential' | 'default' | 'high';
	concurrency: number;
	items: number;
	wallMs: number;
	/** false: extrapolated from the measured per-item sequential time, not run. */
	measured: boolean;
	failed: number;
	statusCallsPerJob?: number;
}

export interface ConcurrencyResult {
	jobMs: number;
	defaultConcurrency: number;
	full: boolean;
	sequentialPerItemMs: number;
	runs: ConcurrencyRun[];
}

export interface LagRow {
	jobMs: number;
	/**
	 * 'first run': the process had learned nothing yet; 'learned': the same jobs again, right
	 * after a first run in the same process. Absent in figures from before the warm-up.
	 */
	phase?: 'first run' | 'learned';
	jobs: number;
	/** Job durations were spread evenly over jobMs ± spreadMs / 2. */
	spreadMs: number;
	failed: number;
	wallMs: number;
	callsMean: number;
	callsMax: number;
	/** Jobs whose status calls exceeded their own bound (duration_s / 2 + 2). */
	callsOverBound: number;
	lagP50Ms: number;
	lagP95Ms: number;
	lagMaxMs: number;
	/** Gaps between consecutive status calls of one job: shows the schedule's actual intervals, drift included. */
	gapMeanMs: number;
	gapMaxMs: number;
}

export interface LagResult extends Partial<BuildStamp> {
	concurrency: number;
	rows: LagRow[];
}

/** Requests to the API host by route, and the 429s among them (counted from the simulator's log). */
export interface RequestCounts {
	requests: number;
	throttled: number;
	submits: number;
	submits429: number;
	statusCalls: number;
	status429: number;
	/** When 429s came, grouped into bursts: seconds after the first request, route, count. */
	throttleBursts: Array<{ atS: number; route: string; count: number }>;
}

export interface RateLimitRow extends RequestCounts {
	variant: string;
	options: Record<string, unknown>;
	/** Absent in figures from before the plan could sit on the credential. */
	plan?: PlanPlace;
	/** The durations the simulator drew (jitter included): the physical limit is computed from them. */
	durationsMs?: number[];
	items: number;
	failed: number;
	wallMs: number;
	cancelled: boolean;
	/** Distinct error messages of failed items (at most a few). */
	errors: string[];
}

export interface RateLimitResult extends Partial<BuildStamp> {
	limitPerMinute: number;
	jobMs: number;
	/** Durations varied by ± this (absent: they did not vary). */
	jitterMs?: number;
	rows: RateLimitRow[];
}

/** One variant of the burst: N single-item executions started at once. */
export interface BurstRow extends RequestCounts {
	variant: string;
	perMinute: number;
	plan: PlanPlace;
	executions: number;
	failed: number;
	wallMs: number;
	/** When each execution that succeeded answered, from the common start, sorted. */
	answersMs: number[];
	/** The durations the simulator drew (jitter included). */
	durationsMs: number[];
	cancelled: boolean;
	errors: string[];
}

export interface BurstResult extends BuildStamp {
	jobMs: number;
	jitterMs: number;
	rows: BurstRow[];
}

/**
 * What a CPU row measures: the node with in-memory HTTP (the target's figure), the node through
 * n8n's real HTTP helpers, the engine's baseline, or HTTP clients alone (no node).
 */
export type CpuKind = 'node-in-memory' | 'node-http' | 'baseline' | 'http';

export interface CpuRow {
	workload: string;
	/** Absent in figures from before the in-memory rows. */
	kind?: CpuKind;
	/** Items per run and their concurrency; absent: the result's own. */
	items?: number;
	concurrency?: number;
	/** Requests per item the node made (answered in memory for node-in-memory rows). */
	requestsPerItem: number;
	/** CPU (user + system) per item of each measured repeat, ms. */
	repeatsMs: number[];
	medianMs: number;
	/** Of the median repeat, the system (kernel) part; absent in older figures. */
	systemMs?: number;
}

export interface CpuResult {
	items: number;
	concurrency: number;
	rows: CpuRow[];
	/**
	 * The target's figure: the highest median of the node-in-memory rows, nothing subtracted.
	 * Absent in figures from before those rows.
	 */
	inMemoryMs?: number;
	/** Full run through n8n's HTTP helpers minus the harness baseline (context: n8n's helpers included). */
	nodeShareMs: number;
	totalMs: number;
}

export interface MemoryRow {
	/** n8n's binary-data mode the output landed in: filesystem (n8n 2.x's default) or default (in memory). */
	binaryMode: string;
	images: number;
	/** Mean bytes per downloaded image. */
	imageBytes: number;
	/** BENCH_IMAGE_BYTES: every PNG padded to at least this; absent: the simulator's pictures as drawn. */
	paddedTo?: number;
	concurrency: number;
	failed: number;
	wallMs: number;
	baselineRss: number;
	peakRss: number;
	maxRss: number;
	peakHeapUsed: number;
	peakArrayBuffers: number;
	peakExternal: number;
	rssWithResults: number;
	rssAfterRelease: number;
	downloadedBytes: number;
}

export interface MemoryResult {
	rows: MemoryRow[];
}

export interface PartResults {
	concurrency: ConcurrencyResult;
	lag: LagResult;
	ratelimit: RateLimitResult;
	burst: BurstResult;
	cpu: CpuResult;
	memory: MemoryResult;
}

/** What a part worker reports, and what the report keeps per part. */
export interface PartEnvelope<P extends PartName = PartName> {
	part: P;
	measuredAt: string;
	durationMs: number;
	result?: PartResults[P];
	error?: string;
}

/** A rate-bound variant says 'ready' once loaded and warmed up, and measures on 'go' (bench.ts: when all are ready). */
export type WorkerMessage = { type: 'result'; envelope: PartEnvelope } | { type: 'ready' };

export type OrchestratorMessage = { type: 'go' };
