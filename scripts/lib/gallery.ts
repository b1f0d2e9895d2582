/**
 * A workflow holding one Bria Tailored node per operation and input mode, for the editor:
 * screenshots of each node panel, and the e2e check of which fields each mode shows.
 */
import { randomUUID } from 'node:crypto';

import type { WorkflowFile, WorkflowNode } from './n8n';
import { briaNode, manualTrigger } from './workflows';
import type { CredentialRef } from './workflows';

export const GALLERY_WORKFLOW_ID = 'briaPanelGallery01';

export interface GalleryEntry {
	/** File name under docs/screenshots (without .png) and a stable key for tests. */
	key: 'image-prompt' | 'image-recreate' | 'image-refine' | 'structured-prompt-prompt' | 'structured-prompt-refine' | 'request-get-status';
	title: string;
	node: WorkflowNode;
}

/** The model picker as saved after choosing "Brand Product Shots" (simulator model 101) from the list. */
const pickedModel = { __rl: true, mode: 'list', value: '101', cachedResultName: 'Brand Product Shots' };

export function galleryEntries(credential: CredentialRef): GalleryEntry[] {
	const entry = (key: GalleryEntry['key'], title: string, parameters: Record<string, unknown>): GalleryEntry => ({
		key,
		title,
		node: briaNode(title, parameters, credential, { id: randomUUID() }),
	});
	return [
		entry('image-prompt', 'Image: From Text Prompt', {
			resource: 'image',
			operation: 'generate',
			model: pickedModel,
			inputMode: 'prompt',
			prompt: 'Our ceramic mug on a sunlit kitchen table, soft morning light',
			waitForCompletion: true,
			options: { aspectRatio: '4:5' },
		}),
		entry('image-recreate', 'Image: Recreate', {
			resource: 'image',
			operation: 'generate',
			model: pickedModel,
			inputMode: 'recreate',
			structuredPrompt: '={{ $json.structured_prompt }}',
			seed: '={{ $json.seed }}',
			waitForCompletion: true,
			options: {},
		}),
		entry('image-refine', 'Image: Refine', {
			resource: 'image',
			operation: 'generate',
			model: pickedModel,
			inputMode: 'refine',
			prompt: 'Make the background a deep ocean blue',
			structuredPrompt: '={{ $json.structured_prompt }}',
			waitForCompletion: true,
			options: {},
		}),
		entry('structured-prompt-prompt', 'Structured Prompt: From Text Prompt', {
			resource: 'structuredPrompt',
			operation: 'generate',
			model: pickedModel,
			inputMode: 'prompt',
			prompt: 'Our ceramic mug on a sunlit kitchen table',
			waitForCompletion: true,
			options: {},
		}),
		entry('structured-prompt-refine', 'Structured Prompt: Refine', {
			resource: 'structuredPrompt',
			operation: 'generate',
			model: pickedModel,
			inputMode: 'refine',
			prompt: 'Switch to warm golden-hour light',
			structuredPrompt: '={{ $json.structured_prompt }}',
			waitForCompletion: true,
			options: {},
		}),
		entry('request-get-status', 'Request: Get Status', {
			resource: 'request',
			operation: 'getStatus',
			requestId: '={{ $json.request_id }}',
			waitForCompletion: true,
			options: {},
		}),
	];
}

/** The gallery as one workflow: a Manual Trigger and the six nodes on a grid (unconnected). */
export function galleryWorkflow(entries: GalleryEntry[]): WorkflowFile {
	const trigger = manualTrigger();
	trigger.position = [0, 160];
	entries.forEach((entry, index) => {
		entry.node.position = [280 + (index % 3) * 260, Math.floor(index / 3) * 320];
	});
	return {
		id: GALLERY_WORKFLOW_ID,
		name: 'Bria Tailored: every operation and input mode',
		active: false,
		nodes: [trigger, ...entries.map((entry) => entry.node)],
		connections: {},
		settings: { executionOrder: 'v1' },
	};
}
