import { generateImage } from './image/generate.operation';
import { getStatus } from './request/getStatus.operation';
import { generateStructuredPrompt } from './structuredPrompt/generate.operation';
import type { BriaOperation } from './types';

/** Every operation of the node. The description and the router are both built from this list. */
export const OPERATIONS: BriaOperation[] = [generateImage, generateStructuredPrompt, getStatus];

export const RESOURCES = [
	{ name: 'Image', value: 'image' },
	{ name: 'Structured Prompt', value: 'structuredPrompt' },
	{ name: 'Request', value: 'request' },
];

export function findOperation(resource: string, operation: string): BriaOperation | undefined {
	return OPERATIONS.find((op) => op.resource === resource && op.operation === operation);
}
