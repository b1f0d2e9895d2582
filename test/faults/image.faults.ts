import { binaryBuffer } from '../harness/runNode';
import { faults, pngDimensions } from '../simulator/BriaSimulator';
import { faultSuite, imageParams } from './matrix';

/*
 * Faults on the result image, downloaded from the storage host (never with the token). The job
 * is done and paid by then: a failed download must say so and keep the request_id and image_url.
 */
const suite = faultSuite(__filename);

const xmlError = (status: number, code: string) => ({
	kind: 'respond' as const,
	status,
	body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code></Error>`,
	headers: { 'Content-Type': 'application/xml' },
});

describe('result image faults', () => {
	suite.case(
		{
			group: 'result image',
			name: '403 on the image URL (expired), Continue On Fail',
			expected: 'error item: may have expired; request_id and image_url kept',
			parameters: imageParams(),
			continueOnFail: true,
			setup: (sim) => sim.planJobs({ imageFault: xmlError(403, 'AccessDenied') }),
		},
		({ items, sim }) => {
			const requestId = sim.submits()[0].requestId;
			expect(items[0].json).toEqual({
				error: 'Could not download the result image: the storage host answered HTTP 403',
				description: expect.stringContaining('Result URLs are temporary: it may have expired.'),
				request_id: requestId,
				image_url: `${sim.imageBaseUrl}/results/${requestId}.png`,
			});
			expect(sim.requests('image')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'result image',
			name: '404 on the image URL (expired)',
			expected: 'error: may have expired; request_id kept; one download try',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ imageFault: xmlError(404, 'NoSuchKey') }),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Could not download the result image: the storage host answered HTTP 404');
			expect(error?.description).toContain('it may have expired');
			expect(error?.context?.requestId).toBe(sim.submits()[0].requestId);
			expect(sim.requests('image')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'slow download within the budget (1.5 s trickle)',
			expected: 'waits for it: the full, intact PNG',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ imageFault: faults.slowBody(1_500, 8) }),
		},
		async ({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(pngDimensions(await binaryBuffer(items[0]))).toEqual({ width: 1024, height: 1024 });
			expect(items[0].binary?.data.mimeType).toBe('image/png');
			expect(sim.requests('image')).toHaveLength(1);
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'download outlasting what is left of max wait (4 s job budget, 4 s download)',
			expected: 'the download has its own budget: the full, intact PNG',
			parameters: imageParams({}, { maxWaitTime: 4 }),
			setup: (sim) => sim.planJobs({ durationMs: 1_000, imageFault: faults.slowBody(4_000, 8) }),
		},
		async ({ error, items, nodeMs, sim }) => {
			expect(error).toBeUndefined();
			expect(pngDimensions(await binaryBuffer(items[0]))).toBeDefined();
			expect(items[0].json.request_id).toBe(sim.submits()[0].requestId);
			// Past max wait: the download was not cut at what was left of it.
			expect(nodeMs).toBeGreaterThan(4_000);
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'octet-stream content type on a PNG (object store default)',
			expected: 'accepted by its bytes: image/png, .png',
			parameters: imageParams(),
			setup: (sim) => {
				sim.options.imageMimeType = 'binary/octet-stream';
			},
		},
		async ({ error, items }) => {
			expect(error).toBeUndefined();
			expect(items[0].binary?.data).toMatchObject({ mimeType: 'image/png', fileExtension: 'png' });
			expect(pngDimensions(await binaryBuffer(items[0]))).toBeDefined();
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'octet-stream content type on bytes that are no image',
			expected: 'error: not PNG, JPEG or WebP; request_id and image_url kept',
			parameters: imageParams(),
			continueOnFail: true,
			setup: (sim) => sim.planJobs({ imageFault: faults.wrongContentType('application/octet-stream', '%PDF-1.7 not an image') }),
		},
		({ items, sim }) => {
			const requestId = sim.submits()[0].requestId;
			expect(items[0].json).toMatchObject({
				error: 'Could not download the result image: expected an image but got "application/octet-stream" whose bytes are not PNG, JPEG or WebP',
				request_id: requestId,
				image_url: `${sim.imageBaseUrl}/results/${requestId}.png`,
			});
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'wrong content type (HTML page)',
			expected: 'error: expected an image, got text/html',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ imageFault: faults.wrongContentType() }),
		},
		({ error }) => {
			expect(error?.message).toBe('Could not download the result image: expected an image but got "text/html"');
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'empty body (image/png, 0 bytes)',
			expected: 'error: the file is empty',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ imageFault: faults.emptyBody(200, 'image/png') }),
		},
		({ error }) => {
			expect(error?.message).toBe('Could not download the result image: the file is empty');
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'connection drops halfway through the image',
			expected: 'error naming the download; no partial image output',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ imageFault: faults.truncate() }),
		},
		({ error, items }) => {
			expect(error?.message).toBe('Could not download the result image: the connection dropped before the whole answer arrived');
			expect(items).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'image_url that is not http(s)',
			expected: 'error before any download; request_id kept',
			parameters: imageParams(),
			setup: (sim) => sim.planJobs({ result: { image_url: 'file:///etc/passwd' } }),
		},
		({ error, sim }) => {
			expect(error?.message).toBe('Could not download the result image: Bria sent an image_url that is not an http(s) URL');
			expect(sim.requests('image')).toHaveLength(0);
		},
	);

	suite.case(
		{
			group: 'result image',
			name: 'Download Image off, URL expired',
			expected: 'no download at all: image_url only',
			parameters: imageParams({}, { downloadImage: false }),
			setup: (sim) => sim.planJobs({ imageFault: xmlError(404, 'NoSuchKey') }),
		},
		({ error, items, sim }) => {
			expect(error).toBeUndefined();
			expect(items[0].binary).toBeUndefined();
			expect(items[0].json.image_url).toBe(`${sim.imageBaseUrl}/results/${sim.submits()[0].requestId}.png`);
			expect(sim.requests('image')).toHaveLength(0);
		},
	);
});
