/** Shapes shared by the benchmark's orchestrator, its part workers and the simulator child process. */
import type { JobPlan, Route, SimOptions } from '../../test/simulator/BriaSimulator';

export const PART_NAMES = ['concurrency', 'lag', 'ratelimit', 'cpu', 'memory', 'burst', 'scale', 'singles', 'share', 'fairness', 'pump'] as const;
export type PartName = (typeof PART_NAMES)[number];

/** Parts bound by Bria's rate or by waiting, not by CPU: their variants run side by side, each in a fresh process. */
export const RATE_BOUND_PARTS = ['lag', 'ratelimit', 'burst'] as const;
export type RateBoundPart = (typeof RATE_BOUND_PARTS)[number];

/**
 * Issue 13's parts. Each row carries the generation of the scheduler that measured it (today's,
 * commit a71375e, or the rebuilt one), so a run replaces only its own generation's rows and the
 * report shows both side by side. share and fairness (minutes of waiting) run side by side with
 * the rate-bound parts; scale and singles (hundreds of jobs, CPU and event loop measured) run one
 * variant after another in the CPU lane; pump is a CPU-bound microbenchmark.
 */
export const SCALE_PARTS = ['scale', 'singles', 'share', 'fairness', 'pump'] as const;
export type ScalePart = (typeof SCALE_PARTS)[number];
/** Issue 13's parts whose variants wait side by side (like the rate-bound parts). */
export const WAITING_SCALE_PARTS: readonly ScalePart[] = ['share', 'fairness'];

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

// ---------- issue 13: scale, fairness, sharing, the scheduler's cost ----------

/** 'today': the node as of commit a71375e (nodes/ and credentials/ unchanged from it); 'new': anything else. */
export type Generation = 'today' | 'new';

export interface GenerationStamp {
	generation: Generation;
	/** Short git commit, "+ uncommitted node changes" when nodes/ or credentials/ differed from it. */
	commit: string;
	/** 1-minute load average when the row's measurement started and ended (2 cores, shared machine). */
	load: [number, number];
}

/** Event-loop delay during a run (perf_hooks.monitorEventLoopDelay, 10 ms resolution). */
export interface LoopLag {
	p50Ms: number;
	p99Ms: number;
	maxMs: number;
	meanMs: number;
}

/** Where the process's CPU went during a run, from a sampling CPU profile (main thread only). */
export interface CpuSplit {
	/** process.cpuUsage() of the whole process (all threads: GC, libuv, the profiler's sampling), per completed job. */
	totalMsPerJob: number;
	systemMsPerJob: number;
	/** Sampled main-thread CPU per completed job, by who did the work (see scale.ts for the rules). */
	sampledMsPerJob: Record<string, number>;
	profileIntervalUs: number;
	jobs: number;
}

export interface RssFigures {
	binaryMode: string;
	/** Images in the node's output (none when the run was stopped at the cap). */
	images: number;
	/** Result downloads the simulator served. */
	downloads: number;
	imageBytesMean: number;
	/** RSS of the idle process: engine loaded, one execution run, garbage collected. */
	baselineRss: number;
	/** Peak RSS sampled every 20 ms during the run. */
	peakRss: number;
	/** The kernel's high-water mark (resourceUsage().maxRSS). */
	maxRss: number;
	/** Above the idle process once the run's output was released and garbage collected (absent in older rows). */
	retained?: { rss: number; arrayBuffers: number };
}

/** One execution of many items (scale:300, scale:1000, scale:1000-downloads). */
export interface ScaleRow extends RequestCounts, GenerationStamp {
	variant: string;
	items: number;
	jobMs: number;
	jitterMs: number;
	/** The simulator's limit per endpoint per minute, also stated as the plan on the credential. */
	perMinute: number;
	plan: PlanPlace;
	download: boolean;
	/** The run is stopped (as n8n's Stop button does) after this long. */
	capMs: number;
	stoppedAtCap: boolean;
	/** Jobs accepted by the simulator (submits answered 202) by the end, and by the cap. */
	submitted: number;
	completed: number;
	failed: number;
	wallMs: number;
	/** Physical limit from this run's own job durations (limits.ts). */
	limitMs: number;
	lag?: LoopLag;
	cpu?: CpuSplit;
	rss?: RssFigures;
	errors: string[];
}

/** N single-item executions started at once (singles:100). */
export interface SinglesRow extends RequestCounts, GenerationStamp {
	variant: string;
	executions: number;
	jobMs: number;
	jitterMs: number;
	perMinute: number;
	plan: PlanPlace;
	capMs: number;
	stoppedAtCap: boolean;
	failed: number;
	wallMs: number;
	limitMs: number;
	/** When each successful execution answered, from the common start, sorted. */
	answersMs: number[];
	lag?: LoopLag;
	errors: string[];
}

/** Processes that cannot see each other's budget, one simulator (share:2proc, share:alone). */
export interface ShareRow extends RequestCounts, GenerationStamp {
	variant: string;
	processes: number;
	executionsPerProcess: number;
	jobMs: number;
	jitterMs: number;
	perMinute: number;
	/** Each process states the full plan on its credential. */
	plan: PlanPlace;
	capMs: number;
	stoppedAtCap: boolean;
	failed: number;
	wallMs: number;
	limitMs: number;
	/** Per process: when its last execution answered (from the common start), and its failures. */
	perProcess: Array<{ lastAnswerMs: number; failed: number }>;
	errors: string[];
}

/** Turns (requests the simulator saw) of the batch and of the singles in one 60 s window. */
export interface WindowTurns {
	/** Window index from the first request: 0 = [0 s, 60 s). */
	window: number;
	batchSubmits: number;
	batchChecks: number;
	singleSubmits: number;
	singleChecks: number;
}

/** A batch, then a stream of single-item executions (fairness:overload, fairness:under). */
export interface FairnessRow extends RequestCounts, GenerationStamp {
	variant: string;
	perMinute: number;
	plan: PlanPlace;
	jobMs: number;
	jitterMs: number;
	batchItems: number;
	/** One single-item execution every this many ms while the stream lasts. */
	intervalMs: number;
	streamMs: number;
	singles: number;
	/** Arrival rate of the singles as a share of the plan (1.2 = 120 %). */
	offeredShare: number;
	capMs: number;
	stoppedAtCap: boolean;
	batchFailed: number;
	singlesFailed: number;
	wallMs: number;
	/** Least wall any client could reach with these arrivals and durations (limits.ts). */
	limitMs: number;
	windows: WindowTurns[];
	/** Singles' answer times (from each one's start), and the same percentiles of their job durations: the limit. */
	singlesAnswerP50Ms: number;
	singlesAnswerP95Ms: number;
	singlesDurationP50Ms: number;
	singlesDurationP95Ms: number;
	errors: string[];
}

/** The budget's cost per event at one plan and queue length, on a fake clock (pump). */
export interface PumpRow extends GenerationStamp {
	variant: string;
	plan: number;
	waiters: number;
	/** Steady-state cycles measured: a slot frees, one waiter is woken and granted, answers, one new waiter arrives. */
	cycles: number;
	/** Medians of the process's CPU time, µs, each event with the microtasks it set off, the cost of an empty drain taken off. */
	arrivalUs: number;
	answerUs: number;
	wakeUs: number;
	/** p95 of a whole cycle's CPU time, µs. */
	cycleP95Us: number;
	/** The same in wall time (stretched when other processes hold the cores). */
	wall: { arrivalUs: number; answerUs: number; wakeUs: number; cycleP95Us: number };
	/** Setting up the full window and the queue, ms. */
	setupMs: number;
}

export interface ScaleResult {
	rows: ScaleRow[];
}
export interface SinglesResult {
	rows: SinglesRow[];
}
export interface ShareResult {
	rows: ShareRow[];
}
export interface FairnessResult {
	rows: FairnessRow[];
}
export interface PumpResult {
	rows: PumpRow[];
}

export interface PartResults {
	concurrency: ConcurrencyResult;
	lag: LagResult;
	ratelimit: RateLimitResult;
	burst: BurstResult;
	cpu: CpuResult;
	memory: MemoryResult;
	scale: ScaleResult;
	singles: SinglesResult;
	share: ShareResult;
	fairness: FairnessResult;
	pump: PumpResult;
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
