import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

/** What Bria is expected to return, so a completed job missing its result is caught. */
export type ResultKind = 'image' | 'structuredPrompt' | 'any';

/** One item's job, validated and ready to send: everything the scheduler needs, nothing more. */
export interface JobSpec {
	/** A new job to submit; absent when resuming `requestId` (Get Status). */
	submit?: { path: string; body: IDataObject };
	requestId?: string;
	expects: ResultKind;
	waitForCompletion: boolean;
	maxWaitMs: number;
	download: boolean;
	binaryPropertyName: string;
	/** How many jobs of this request the item asks for (Images per Item); 1 when absent. */
	copies?: number;
}

interface OperationBase {
	resource: string;
	operation: string;
	properties: INodeProperties[];
}

/** A Bria job (generate, get status): how one item's parameters become a job the scheduler runs. */
export interface JobOperation extends OperationBase {
	prepare(ctx: IExecuteFunctions, itemIndex: number): JobSpec;
	execute?: never;
}

/** A plain read (the Model resource): one item's output items, fetched by the operation itself. */
export interface ReadOperation extends OperationBase {
	execute(ctx: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]>;
	prepare?: never;
}

/** An operation is its fields plus either a job per item or a read per item. */
export type BriaOperation = JobOperation | ReadOperation;
