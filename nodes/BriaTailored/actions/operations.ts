import { generateImage } from './image/generate.operation';
import { getOneModel } from './model/get.operation';
import { getManyModels } from './model/getAll.operation';
import { getStatus } from './request/getStatus.operation';
import { generateStructuredPrompt } from './structuredPrompt/generate.operation';
import type { BriaOperation } from './types';

/** Every operation of the node. Their fields and the router are both driven by this list. */
export const OPERATIONS: BriaOperation[] = [generateImage, generateStructuredPrompt, getStatus, getManyModels, getOneModel];

export function findOperation(resource: string, operation: string): BriaOperation | undefined {
	return OPERATIONS.find((op) => op.resource === resource && op.operation === operation);
}
