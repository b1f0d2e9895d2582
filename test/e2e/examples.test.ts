/**
 * The example workflows in examples/: well-formed, importable with n8n's CLI exactly as shipped,
 * built only from node types and versions this n8n has (the Bria node included, with parameters it
 * knows), and the structured prompt loop runs end to end (it is what `npm run demo` runs).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { BriaSimulator } from '../simulator/BriaSimulator';
import { NODE_TYPE } from '../../scripts/lib/n8n';
import type { N8nInstance, WorkflowFile } from '../../scripts/lib/n8n';
import { briaCredential, examplesDir, loadExamples, prepareExample, workflowId } from '../../scripts/lib/workflows';
import { acceptedSubmits, body, newInstance, pngOf, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

interface NodeDescription {
	name: string;
	version: number | number[];
	properties: Array<{ name: string }>;
}

const examples = loadExamples();
const CREDENTIAL = { id: 'briaE2eExamples01', name: 'Bria API (e2e)' };

let n8n: N8nInstance;
let sim: BriaSimulator;

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 300 });
	n8n = await newInstance();
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
	await sim?.stop();
	await n8n?.dispose();
});

test('there are the documented examples (the recipes run end to end in recipes.test.ts)', () => {
	expect(examples.map((example) => example.file)).toEqual([
		'cms-webhook-to-s3.json',
		'edit-structured-prompt.json',
		'form-variations-to-email.json',
		'newest-model-generate.json',
		'structured-prompt-loop.json',
	]);
});

test.each(examples.map((example) => [example.file, example.workflow] as const))('%s is well-formed and ships no credentials', (_file, workflow) => {
	expect(workflow.id).toMatch(/^[A-Za-z0-9]{1,21}$/);
	const names = workflow.nodes.map((node) => node.name);
	expect(new Set(names).size).toBe(names.length);
	expect(new Set(workflow.nodes.map((node) => node.id)).size).toBe(names.length);
	for (const [from, outputs] of Object.entries(workflow.connections)) {
		expect(names).toContain(from);
		for (const target of outputs.main.flat()) expect(names).toContain(target.node);
	}
	const bria = workflow.nodes.filter((node) => node.type === NODE_TYPE);
	expect(bria.length).toBeGreaterThan(0);
	for (const node of workflow.nodes) expect(node.credentials).toBeUndefined();
	for (const node of bria) {
		expect(node.typeVersion).toBe(1);
		if (node.parameters.resource === 'model') expect(node.parameters.model).toBeUndefined();
		// Users pick their own tailored model from the list, unless the workflow maps it (Model → Get Many's {{ $json.id }}).
		else if (node.parameters.model && (node.parameters.model as { mode?: string }).mode === 'id') expect(node.parameters.model).toEqual({ __rl: true, mode: 'id', value: '={{ $json.id }}' });
		else expect(node.parameters.model).toEqual({ __rl: true, mode: 'list', value: '' });
	}
	// Edits and choices are made with n8n's own nodes: no Code or Function node.
	expect(workflow.nodes.filter((node) => /\.(code|function|functionItem)$/.test(node.type)).map((node) => node.name)).toEqual([]);
	// Every Bria node is reachable from the workflow's trigger.
	const reached = new Set<string>();
	const visit = (name: string) => {
		if (reached.has(name)) return;
		reached.add(name);
		for (const target of workflow.connections[name]?.main.flat() ?? []) visit(target.node);
	};
	const trigger = workflow.nodes.find((node) => /Trigger$|\.webhook$/.test(node.type));
	expect(trigger).toBeDefined();
	visit(trigger!.name);
	for (const node of bria) expect(reached.has(node.name)).toBe(true);
});

test('each example imports with n8n\'s CLI exactly as shipped, and n8n stores it unchanged', async () => {
	for (const { file } of examples) await n8n.cli(['import:workflow', `--input=${path.join(examplesDir(), file)}`]);
	const exported = path.join(n8n.userFolder, 'exported.json');
	await n8n.cli(['export:workflow', '--all', `--output=${exported}`]);
	const stored = JSON.parse(readFileSync(exported, 'utf8')) as WorkflowFile[];
	for (const { workflow } of examples) {
		const copy = stored.find((candidate) => candidate.id === workflow.id);
		expect(copy?.name).toBe(workflow.name);
		const shape = (nodes: WorkflowFile['nodes']) => nodes.map(({ name, type, typeVersion, parameters }) => ({ name, type, typeVersion, parameters }));
		expect(shape(copy!.nodes)).toEqual(shape(workflow.nodes));
		expect(copy!.connections).toEqual(workflow.connections);
	}
});

test('n8n has every node type and version the examples use, and knows every Bria parameter they set', async () => {
	const file = path.join(n8n.userFolder, 'nodes.json');
	await n8n.cli(['export:nodes', `--output=${file}`]);
	const known = JSON.parse(readFileSync(file, 'utf8')) as NodeDescription[];
	const find = (type: string, version: number) =>
		known.find((d) => d.name === type && (Array.isArray(d.version) ? d.version.includes(version) : d.version === version));

	// Loaded from the installed package, the AI-tool variant included (usableAsTool).
	expect(find(NODE_TYPE, 1)).toBeDefined();
	expect(find(`${NODE_TYPE}Tool`, 1)).toBeDefined();
	for (const { file: example, workflow } of examples) {
		for (const node of workflow.nodes) {
			const description = find(node.type, node.typeVersion);
			expect({ example, node: node.name, found: !!description }).toEqual({ example, node: node.name, found: true });
			if (node.type !== NODE_TYPE) continue;
			const parameterNames = new Set(description!.properties.map((property) => property.name));
			for (const parameter of Object.keys(node.parameters)) expect({ node: node.name, parameter, known: parameterNames.has(parameter) }).toEqual({ node: node.name, parameter, known: true });
		}
	}
});

test('the structured prompt loop runs: the Set node\'s edit reaches Recreate, Refine changes the result', async () => {
	const { workflow } = examples.find((example) => example.file === 'structured-prompt-loop.json')!;
	const runnable = prepareExample(workflow, workflowId('loop'), CREDENTIAL, 102);
	await n8n.importCredentials([briaCredential(CREDENTIAL.id, TOKEN, sim.baseUrl, CREDENTIAL.name)]);
	await n8n.importWorkflows([runnable]);
	const run = await n8n.execute(runnable.id);
	expect(run.error).toBeUndefined();

	const [generated] = run.items('Generate Structured Prompt');
	const [edited] = run.items('Edit Lighting');
	const [recreated] = run.items('Recreate With Edit');
	const [refined] = run.items('Refine Image');
	const lighting = (json: Record<string, unknown>) => (json.structured_prompt as { lighting: { conditions: string } }).lighting.conditions;
	expect(lighting(generated.json)).not.toBe('warm golden-hour sunlight through a window');
	expect(lighting(edited.json)).toBe('warm golden-hour sunlight through a window');

	const [recreateSubmit, refineSubmit] = acceptedSubmits(sim, 'submitImage');
	expect(JSON.parse(body(recreateSubmit).structured_prompt as string)).toEqual(edited.json.structured_prompt);
	expect(body(recreateSubmit).seed).toBe(generated.json.seed);
	expect(body(refineSubmit).prompt).toBe('Make the background a deep ocean blue');
	expect(JSON.parse(body(refineSubmit).structured_prompt as string)).toEqual(recreated.json.structured_prompt);
	pngOf(run, recreated);
	pngOf(run, refined);
	expect(run.output.includes(TOKEN)).toBe(false);
});
