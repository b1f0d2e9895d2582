/**
 * The recipes in examples/, run for real: each workflow exactly as shipped (only the credentials
 * and the model picked from the list filled in, as a user does after importing), in a real n8n,
 * against the Bria simulator and real servers on 127.0.0.1 started here, nothing mocked:
 *
 * - form-variations-to-email.json: Form Trigger → Bria (Images per Item = 4) → Aggregate → Send
 *   Email. nodemailer's SMTP server receives the message; each attachment is byte-identical to the
 *   PNG the simulator made for its job.
 * - cms-webhook-to-s3.json: Webhook → Bria → S3 node → Respond to Webhook with the key. s3rver (an
 *   S3-protocol server, behind a front checking AWS Signature V4) stores the object; read back, it
 *   is the job's PNG.
 * - edit-structured-prompt.json: Structured Prompt → Edit Fields (lighting, background_setting) →
 *   Recreate with the seed; the recreate submit carries the edited JSON and the seed.
 * - newest-model-generate.json: Model → Get Many → Sort → Limit → Generate; the submit uses the
 *   newest usable model.
 *
 * The manual recipes run first with `n8n execute`; the form and webhook recipes then run against
 * `n8n start`.
 */
import { simpleParser } from 'mailparser';
import { FormData, request } from 'undici';

import { BriaSimulator, defaultModels, pngDimensions } from '../simulator/BriaSimulator';
import type { SimModel } from '../simulator/BriaSimulator';
import type { N8nInstance, RunningN8n, WorkflowFile } from '../../scripts/lib/n8n';
import { NODE_TYPE } from '../../scripts/lib/n8n';
import { LocalS3Server, LocalSmtpServer, sigV4Problem } from '../../scripts/lib/recipeServices';
import { briaCredential, loadExample, prepareExample, withCredential, workflowId } from '../../scripts/lib/workflows';
import { acceptedSubmits, body, expectTokenOnlyOnApiHost, newInstance, pngOf, requestsTo, SETUP_TIMEOUT_MS, TOKEN } from './helpers';

const BRIA = { id: 'briaE2eRecipes001', name: 'Bria API (e2e)' };
const SMTP = { id: 'smtpE2eRecipes001', name: 'SMTP (local)' };
const S3 = { id: 's3E2eRecipes00001', name: 'S3 (local)' };
const BUCKET = 'brand-images';

/**
 * The organization's models, in no particular order: newer than the newest usable one (109) are a
 * model still training and a legacy-engine one, and 109 sits in the middle of the list.
 */
const MODELS: SimModel[] = (() => {
	const base = { training_mode: 'fully_automated', project_id: 11, dataset_id: 30 };
	const [m101, m102, m103, m104, m105, m106] = defaultModels();
	return [
		m104,
		{ ...base, id: 107, name: 'Autumn Campaign', status: 'InProgress', training_version: 'fibo', created_at: '2025-11-20T10:00:00Z' },
		m101,
		{ ...base, id: 109, name: 'Winter Campaign', status: 'Completed', training_version: 'fibo', created_at: '2025-11-10T09:30:00Z' },
		m106,
		{ ...base, id: 108, name: 'Old Engine Refresh', status: 'Completed', training_version: 'bria-2.3', created_at: '2025-11-25T08:00:00Z' },
		m102,
		m103,
		m105,
	];
})();
const NEWEST_USABLE = 109;

const recipes = {
	formEmail: withCredential(
		prepareExample(loadExample('form-variations-to-email.json'), workflowId('rFormEmail'), BRIA, 101),
		'n8n-nodes-base.emailSend',
		'smtp',
		SMTP,
	),
	cmsS3: withCredential(prepareExample(loadExample('cms-webhook-to-s3.json'), workflowId('rCmsS3'), BRIA, 101), 'n8n-nodes-base.s3', 's3', S3),
	editSp: prepareExample(loadExample('edit-structured-prompt.json'), workflowId('rEditSp'), BRIA, 102),
	newestModel: prepareExample(loadExample('newest-model-generate.json'), workflowId('rNewest'), BRIA, 101),
};

let sim: BriaSimulator;
let smtp: LocalSmtpServer;
let s3: LocalS3Server;
let n8n: N8nInstance;

beforeAll(async () => {
	sim = await BriaSimulator.start({ token: TOKEN, jobMs: 300, models: MODELS });
	smtp = await LocalSmtpServer.start();
	s3 = await LocalS3Server.start([BUCKET]);
	n8n = await newInstance();
	await n8n.importCredentials([
		briaCredential(BRIA.id, TOKEN, sim.baseUrl, BRIA.name),
		smtp.n8nCredential(SMTP.id, SMTP.name),
		s3.n8nCredential(S3.id, S3.name),
	]);
	await n8n.importWorkflows(Object.values(recipes));
}, SETUP_TIMEOUT_MS);

beforeEach(() => sim.reset());

afterAll(async () => {
	await sim?.stop();
	await smtp?.stop();
	await s3?.stop();
	await n8n?.dispose();
});

/** What Bria stored for a job: the PNG at its image URL on the images host. */
async function storedPng(requestId: string): Promise<Buffer> {
	const response = await request(`${sim.imageBaseUrl}/results/${encodeURIComponent(requestId)}.png`);
	const bytes = Buffer.from(await response.body.arrayBuffer());
	expect(response.statusCode).toBe(200);
	expect(pngDimensions(bytes)).toBeDefined();
	return bytes;
}

function usesNoCode(workflow: WorkflowFile): void {
	const code = workflow.nodes.filter((node) => /\.(code|function|functionItem)$/.test(node.type));
	expect(code.map((node) => node.name)).toEqual([]);
}

test('the S3 server checks AWS Signature V4: AWS\'s documented S3 example passes, the same request with one byte changed does not', () => {
	// "GET Object" example of AWS's Signature Version 4 documentation for S3 (header-based auth).
	const keys = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
	const headers = {
		host: 'examplebucket.s3.amazonaws.com',
		range: 'bytes=0-9',
		'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
		'x-amz-date': '20130524T000000Z',
		authorization:
			'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
	};
	expect(sigV4Problem('GET', '/test.txt', headers, Buffer.alloc(0), keys)).toBeUndefined();
	expect(sigV4Problem('GET', '/test.txT', headers, Buffer.alloc(0), keys)).toBe('SignatureDoesNotMatch');
	expect(sigV4Problem('GET', '/test.txt', { ...headers, range: 'bytes=0-8' }, Buffer.alloc(0), keys)).toBe('SignatureDoesNotMatch');
	expect(sigV4Problem('GET', '/test.txt', headers, Buffer.alloc(0), { ...keys, secretAccessKey: 'another secret' })).toBe('SignatureDoesNotMatch');
	expect(sigV4Problem('GET', '/test.txt', headers, Buffer.from('x'), keys)).toBe('x-amz-content-sha256 is not the SHA-256 of the body');
});

test('edit-structured-prompt: Edit Fields changes lighting and background_setting, and the recreate submit carries that JSON and the seed', async () => {
	usesNoCode(recipes.editSp);
	const run = await n8n.execute(recipes.editSp.id);
	expect(run.error).toBeUndefined();

	const [generated] = run.items('Generate Structured Prompt');
	const [edited] = run.items('Set Lighting and Background');
	const [rendered] = run.items('Render the Edited Scene');
	const original = generated.json.structured_prompt as Record<string, unknown>;
	const editedSp = edited.json.structured_prompt as Record<string, unknown>;
	const lighting = { conditions: 'soft overcast daylight from a large north window', direction: 'from the left', shadows: 'long, soft-edged shadows' };
	const background = 'a whitewashed brick wall in a sunlit loft studio';
	// A real edit: the generated JSON said something else, and nothing but the two fields changed.
	expect(original.lighting).not.toEqual(lighting);
	expect(original.background_setting).not.toBe(background);
	expect(editedSp).toEqual({ ...original, lighting, background_setting: background });

	const [spSubmit] = acceptedSubmits(sim, 'submitStructuredPrompt');
	const [recreate] = acceptedSubmits(sim, 'submitImage');
	expect(acceptedSubmits(sim, 'submitImage')).toHaveLength(1);
	expect(body(spSubmit)).toEqual({ tailored_model_id: '102', prompt: 'Our linen tote bag hanging on a chair, brand product shot', sync: false });
	expect(Object.keys(body(recreate)).sort()).toEqual(['seed', 'structured_prompt', 'sync', 'tailored_model_id']);
	expect(JSON.parse(body(recreate).structured_prompt as string)).toEqual(editedSp);
	expect(body(recreate).seed).toBe(generated.json.seed);
	expect(typeof body(recreate).seed).toBe('number');

	expect(rendered.json).toMatchObject({ request_id: recreate.requestId, seed: generated.json.seed, structured_prompt: editedSp });
	const png = pngOf(run, rendered);
	expect(png.bytes.equals(await storedPng(recreate.requestId!))).toBe(true);
	expectTokenOnlyOnApiHost(sim);
	expect(run.output.includes(TOKEN)).toBe(false);
});

test('newest-model-generate: Model → Get Many (only usable) → Sort → Limit picks the newest usable model, and Generate submits with it', async () => {
	usesNoCode(recipes.newestModel);
	// The fixture is what the test claims: 109 is the newest Completed FIBO model, with newer unusable ones around it.
	const usable = MODELS.filter((m) => m.status === 'Completed' && (m.training_version ?? 'fibo') === 'fibo');
	expect([...usable].sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))[0].id).toBe(NEWEST_USABLE);
	expect([...MODELS].sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))[0].id).not.toBe(NEWEST_USABLE);

	const run = await n8n.execute(recipes.newestModel.id);
	expect(run.error).toBeUndefined();

	const listed = run.items('List Usable Models').map((item) => item.json);
	expect(listed.map((model) => model.id).sort()).toEqual(usable.map((m) => m.id).sort());
	// Bria's fields as they come.
	expect(listed.find((model) => model.id === NEWEST_USABLE)).toEqual(MODELS.find((m) => m.id === NEWEST_USABLE));
	expect(run.items('Keep the Newest').map((item) => item.json.id)).toEqual([NEWEST_USABLE]);

	expect(requestsTo(sim, 'models').map((entry) => entry.status)).toEqual([200]);
	const submits = acceptedSubmits(sim, 'submitImage');
	expect(submits).toHaveLength(1);
	expect(body(submits[0])).toEqual({ tailored_model_id: String(NEWEST_USABLE), prompt: 'Our ceramic coffee mug on a wooden table, brand product shot', sync: false });
	const [generated] = run.items('Generate With Newest Model');
	expect(pngOf(run, generated).bytes.equals(await storedPng(submits[0].requestId!))).toBe(true);
	expectTokenOnlyOnApiHost(sim);
	expect(run.output.includes(TOKEN)).toBe(false);
});

describe('event-driven recipes in a running n8n', () => {
	let running: RunningN8n;

	beforeAll(async () => {
		await n8n.activate(recipes.formEmail.id);
		await n8n.activate(recipes.cmsS3.id);
		// Resolves once n8n has registered the published form and webhook paths.
		running = await n8n.start();
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		await running?.stop();
	});

	async function postJson(path: string, payload: unknown) {
		const response = await request(`${running.baseUrl}${path}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(payload),
			headersTimeout: 90_000,
			bodyTimeout: 90_000,
		});
		return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
	}

	test('cms-webhook-to-s3: the hero image lands in the bucket under the key the CMS gets back, byte for byte', async () => {
		usesNoCode(recipes.cmsS3);
		const event = { event: 'entry.publish', entry: { title: 'Spring launch', summary: 'Our new mug in pastel colours.' } };
		const response = await postJson('/webhook/bria-cms-to-s3', event);
		expect(response.status).toBe(200);
		expect(String(response.headers['content-type'])).toMatch(/application\/json/);
		const answer = JSON.parse(response.text) as { bucket: string; key: string; request_id: string; seed: number };

		const [submit] = acceptedSubmits(sim, 'submitImage');
		expect(body(submit)).toEqual({
			tailored_model_id: '101',
			prompt: 'Hero image for the article "Spring launch". Our new mug in pastel colours.',
			aspect_ratio: '16:9',
			sync: false,
		});
		expect(answer).toEqual({ bucket: BUCKET, key: `hero-images/bria-${submit.requestId}.png`, request_id: submit.requestId, seed: expect.any(Number) });

		const stored = await s3.getObject(answer.bucket, answer.key);
		expect(stored).toBeDefined();
		expect(stored!.contentType).toBe('image/png');
		expect(pngDimensions(stored!.bytes)).toEqual({ width: 1024, height: 576 });
		expect(stored!.bytes.equals(await storedPng(submit.requestId!))).toBe(true);
		expect(await s3.listKeys(BUCKET)).toContain(answer.key);
		// n8n's S3 node signed every request with the credential's key pair, and each signature checked out.
		const fromN8n = s3.requests.filter((entry) => entry.signed);
		expect(fromN8n.map((entry) => `${entry.method} ${entry.url}`)).toContain(`PUT /${BUCKET}/${answer.key}`);
		expect(fromN8n.filter((entry) => !entry.verified || entry.status >= 400)).toEqual([]);
		expectTokenOnlyOnApiHost(sim);
	});

	test('cms-webhook-to-s3: three events at once, three objects, each its own job\'s PNG', async () => {
		const titles = ['Autumn sale', 'New store opening', 'Holiday gift guide'];
		const before = new Set(await s3.listKeys(BUCKET));
		const responses = await Promise.all(titles.map((title) => postJson('/webhook/bria-cms-to-s3', { event: 'entry.publish', entry: { title, summary: 'Short summary.' } })));
		const answers = responses.map((response) => {
			expect(response.status).toBe(200);
			return JSON.parse(response.text) as { key: string; request_id: string };
		});
		expect(new Set(answers.map((answer) => answer.key)).size).toBe(3);
		const submits = acceptedSubmits(sim, 'submitImage');
		expect(submits).toHaveLength(3);
		answers.forEach((answer, index) => {
			const submit = submits.find((entry) => entry.requestId === answer.request_id);
			expect(body(submit!).prompt).toContain(titles[index]);
		});
		for (const answer of answers) expect((await s3.getObject(BUCKET, answer.key))!.bytes.equals(await storedPng(answer.request_id))).toBe(true);
		const added = (await s3.listKeys(BUCKET)).filter((key) => !before.has(key));
		expect(added.sort()).toEqual(answers.map((answer) => answer.key).sort());
	});

	test('form-variations-to-email: one form submission, four jobs, one email whose four pictures are the PNGs Bria made', async () => {
		usesNoCode(recipes.formEmail);
		const page = await request(`${running.baseUrl}/form/bria-variations`);
		expect(page.statusCode).toBe(200);
		expect(await page.body.text()).toContain('Four takes on your picture');

		const received = smtp.received.length;
		// What the browser sends: multipart fields named after the form's field order.
		const fields = new FormData();
		fields.append('field-0', 'Our pastel mug on a marble counter');
		fields.append('field-1', 'art.director@example.com');
		const submitted = await request(`${running.baseUrl}/form/bria-variations`, { method: 'POST', body: fields, headersTimeout: 90_000, bodyTimeout: 90_000 });
		await submitted.body.arrayBuffer();
		// "Workflow Finishes": the answer comes once the email has been handed to the SMTP server.
		expect(submitted.statusCode).toBe(200);

		const submits = acceptedSubmits(sim, 'submitImage');
		expect(submits).toHaveLength(4);
		for (const submit of submits) expect(body(submit)).toEqual({ tailored_model_id: '101', prompt: 'Our pastel mug on a marble counter', sync: false });

		const [mail] = (await smtp.waitForMessages(received + 1)).slice(received);
		expect(smtp.received).toHaveLength(received + 1);
		expect(mail.from).toBe('n8n@example.com');
		expect(mail.to).toEqual(['art.director@example.com']);
		expect(mail.user).toBe(smtp.credentials.user);
		const parsed = await simpleParser(mail.raw, { skipImageLinks: true });
		expect(parsed.subject).toBe('Four takes on "Our pastel mug on a marble counter"');

		const pictures = parsed.attachments;
		expect(pictures).toHaveLength(4);
		const requestIds = submits.map((submit) => submit.requestId!);
		expect(pictures.map((picture) => picture.filename).sort()).toEqual(requestIds.map((id) => `bria-${id}.png`).sort());
		for (const picture of pictures) {
			expect(picture.contentType).toBe('image/png');
			const requestId = /^bria-(.+)\.png$/.exec(picture.filename ?? '')![1];
			expect({ requestId, identical: picture.content.equals(await storedPng(requestId)) }).toEqual({ requestId, identical: true });
			// Shown in the body: the HTML refers to each picture by its content ID.
			expect(parsed.html).toContain(`cid:${picture.cid}`);
		}
		// Four variations: four jobs, four seeds, all named in the message.
		const seeds = submits.map((submit) => (sim.jobs.get(submit.requestId!)!.result.seed as number));
		expect(new Set(seeds).size).toBe(4);
		for (const seed of seeds) expect(parsed.html).toContain(String(seed));
		expectTokenOnlyOnApiHost(sim);
	});

	test('the API token never appears in n8n\'s console output', () => {
		expect(running.output()).toContain('Editor is now accessible');
		expect(running.output().includes(TOKEN)).toBe(false);
	});
});

test('the recipes keep every Bria node on the credential they were given', () => {
	for (const workflow of Object.values(recipes))
		for (const node of workflow.nodes.filter((candidate) => candidate.type === NODE_TYPE)) expect(node.credentials).toEqual({ briaApi: BRIA });
});
