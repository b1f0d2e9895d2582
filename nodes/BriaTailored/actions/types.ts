import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

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
}

/** An operation is its fields plus how one item's parameters become a job. */
export interface BriaOperation {
	resource: string;
	operation: string;
	properties: INodeProperties[];
	prepare(ctx: IExecuteFunctions, itemIndex: number): JobSpec;
}
