/**
 * Workflow and credential JSON for the real n8n: small builders for test workflows, and loading and
 * preparing the example workflows in examples/ (credential, model, ids) without changing their shape.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { CREDENTIAL_TYPE, NODE_TYPE } from './n8n';
import type { CredentialFile, WorkflowFile, WorkflowNode } from './n8n';
import { repoRoot } from './processes';

export interface CredentialRef {
	id: string;
	name: string;
}

/** A Bria API credential as `n8n import:credentials` takes it. */
export function briaCredential(id: string, apiToken: string, baseUrl: string, name = 'Bria API'): CredentialFile {
	return { id, name, type: CREDENTIAL_TYPE, data: { apiToken, baseUrl } };
}

/** n8n workflow ids are at most 21 characters; these stay readable and unique per run. */
export function workflowId(label: string): string {
	const slug = label.replace(/[^A-Za-z0-9]/g, '').slice(0, 12);
	return `${slug}${randomUUID().replace(/-/g, '').slice(0, 20 - slug.length)}`;
}

export function manualTrigger(name = 'Manual Trigger'): WorkflowNode {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
}

/** A Bria Tailored node; `parameters` are the node's own (resource, operation, inputMode, …). */
export function briaNode(name: string, parameters: Record<string, unknown>, credential?: CredentialRef, extra: Partial<WorkflowNode> = {}): WorkflowNode {
	return {
		id: randomUUID(),
		name,
		type: NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		...(credential ? { credentials: { [CREDENTIAL_TYPE]: credential } } : {}),
		...extra,
	};
}

/** The model picker's value as the editor saves it. */
export function modelById(id: string | number): Record<string, unknown> {
	return { __rl: true, mode: 'id', value: String(id) };
}

export interface Assignment {
	name: string;
	value: unknown;
	type?: 'string' | 'number' | 'boolean' | 'array' | 'object';
}

/** An Edit Fields (Set) node; `keepOtherFields` passes the rest of the item through. */
export function setNode(name: string, assignments: Assignment[], keepOtherFields = false): WorkflowNode {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		position: [0, 0],
		parameters: {
			mode: 'manual',
			assignments: {
				assignments: assignments.map((a) => ({ id: randomUUID(), name: a.name, value: a.value, type: a.type ?? 'string' })),
			},
			includeOtherFields: keepOtherFields,
			options: {},
		},
	};
}

/** Turns one item holding `values` into one item per value ({ [field]: value }): the many-items input. */
export function itemsFrom(name: string, field: string, values: unknown[]): WorkflowNode[] {
	return [
		setNode(`${name} List`, [{ name: field, value: `={{ ${JSON.stringify(values)} }}`, type: 'array' }]),
		{
			id: randomUUID(),
			name,
			type: 'n8n-nodes-base.splitOut',
			typeVersion: 1,
			position: [0, 0],
			parameters: { fieldToSplitOut: field, options: {} },
		},
	];
}

/** A workflow whose nodes run one after the other, laid out left to right. */
export function linearWorkflow(id: string, name: string, nodes: WorkflowNode[]): WorkflowFile {
	const connections: WorkflowFile['connections'] = {};
	nodes.forEach((node, index) => {
		node.position = [index * 240, 0];
		const next = nodes[index + 1];
		if (next) connections[node.name] = { main: [[{ node: next.name, type: 'main', index: 0 }]] };
	});
	return { id, name, active: false, nodes, connections, settings: { executionOrder: 'v1' } };
}

// ---------- examples ----------

export interface Example {
	file: string;
	workflow: WorkflowFile;
}

export function examplesDir(): string {
	return path.join(repoRoot(), 'examples');
}

/** Every examples/*.json, parsed. */
export function loadExamples(): Example[] {
	const dir = examplesDir();
	return readdirSync(dir)
		.filter((file) => file.endsWith('.json'))
		.sort()
		.map((file) => ({ file, workflow: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as WorkflowFile }));
}

export function loadExample(file: string): WorkflowFile {
	return JSON.parse(readFileSync(path.join(examplesDir(), file), 'utf8')) as WorkflowFile;
}

/** A model chosen by expression (e.g. `{{ $json.id }}` from Model → Get Many): the example's own choice. */
function isMappedModel(model: unknown): boolean {
	const value = (model as { value?: unknown } | undefined)?.value;
	return typeof value === 'string' && value.startsWith('=');
}

/**
 * A runnable copy of an example: the given id, every Bria node on `credential`, and every model
 * the user is to pick from the list set to `modelId` (a model mapped by expression stays as it
 * is). Nothing else changes, so what runs is what users import.
 */
export function prepareExample(example: WorkflowFile, id: string, credential: CredentialRef, modelId: string | number): WorkflowFile {
	const copy = JSON.parse(JSON.stringify(example)) as WorkflowFile;
	copy.id = id;
	copy.active = false;
	for (const node of copy.nodes) {
		if (node.type !== NODE_TYPE) continue;
		node.credentials = { [CREDENTIAL_TYPE]: credential };
		const picksModel = 'model' in node.parameters || !['request', 'model'].includes(node.parameters.resource as string);
		if (picksModel && !isMappedModel(node.parameters.model)) node.parameters.model = modelById(modelId);
	}
	return copy;
}

/** Sets the credential of every node of `nodeType` (e.g. the recipes' S3 and Send Email nodes). */
export function withCredential(workflow: WorkflowFile, nodeType: string, credentialType: string, credential: CredentialRef): WorkflowFile {
	return {
		...workflow,
		nodes: workflow.nodes.map((node) => (node.type === nodeType ? { ...node, credentials: { ...node.credentials, [credentialType]: credential } } : node)),
	};
}
