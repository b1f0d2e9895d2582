/**
 * Real local servers for the recipes' third-party steps, so the chains run for real on 127.0.0.1:
 *
 * - **SMTP**: nodemailer's `smtp-server` (the server implementation nodemailer itself is tested
 *   against), with AUTH PLAIN/LOGIN and no TLS; every accepted message is kept as the raw MIME bytes
 *   the client sent, to be parsed with `mailparser`.
 * - **S3**: `s3rver`, an S3-protocol server (objects on disk in a private folder), path-style, with
 *   the recipe's bucket created up front, behind a front that checks each request's AWS Signature V4
 *   with the key pair (s3rver checks only the access key ID of a V4 request).
 *
 * Each listens on a free 127.0.0.1 port, has a bounded start, and `stop()` closes it and removes
 * whatever it stored. Used by the recipe e2e tests (test/e2e/recipes.test.ts) and `npm run screenshots`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

import S3rver from 's3rver';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress } from 'smtp-server';

import { freePort } from './processes';

/** Rejects with `what` in the message unless `promise` settles within `ms`. */
async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			promise,
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
			}),
		]);
	} finally {
		clearTimeout(timer);
	}
}

// ---------- SMTP ----------

export interface ReceivedMail {
	/** MAIL FROM and RCPT TO of the SMTP envelope. */
	from: string | undefined;
	to: string[];
	/** Who authenticated for this message. */
	user: string | undefined;
	/** The message exactly as the client sent it (MIME). */
	raw: Buffer;
	at: number;
}

export interface SmtpCredentials {
	user: string;
	password: string;
}

export class LocalSmtpServer {
	private constructor(
		private readonly server: SMTPServer,
		readonly port: number,
		readonly credentials: SmtpCredentials,
		/** Every accepted message, in arrival order. */
		readonly received: ReceivedMail[],
	) {}

	readonly host = '127.0.0.1';

	/**
	 * Listens on 127.0.0.1 (a free port). Clients must authenticate with `credentials`; plain text is
	 * fine here (loopback), so STARTTLS is not offered and AUTH is allowed without TLS.
	 */
	static async start(credentials: SmtpCredentials = { user: 'n8n-recipes', password: 'local-smtp-only' }, maxBytes = 50 * 1024 * 1024): Promise<LocalSmtpServer> {
		const port = await freePort();
		const received: ReceivedMail[] = [];
		const server = new SMTPServer({
			secure: false,
			disabledCommands: ['STARTTLS'],
			allowInsecureAuth: true,
			authMethods: ['PLAIN', 'LOGIN'],
			size: maxBytes,
			logger: false,
			banner: 'n8n-nodes-bria recipe test server',
			onAuth(auth, _session, callback) {
				if (auth.username === credentials.user && auth.password === credentials.password) return callback(null, { user: auth.username });
				return callback(new Error('Invalid username or password'));
			},
			onData(stream, session, callback) {
				const chunks: Buffer[] = [];
				stream.on('data', (chunk: Buffer) => chunks.push(chunk));
				stream.on('error', (error) => callback(error));
				stream.on('end', () => {
					if (stream.sizeExceeded) return callback(Object.assign(new Error('Message too big'), { responseCode: 552 }));
					const address = (entry: SMTPServerAddress | false) => (entry ? entry.address : undefined);
					received.push({
						from: address(session.envelope.mailFrom),
						to: session.envelope.rcptTo.map((entry) => entry.address),
						user: typeof session.user === 'string' ? session.user : undefined,
						raw: Buffer.concat(chunks),
						at: Date.now(),
					});
					callback();
				});
			},
		});
		server.on('error', () => undefined); // a client dropping mid-session must not crash the test process
		await within(
			`SMTP server on 127.0.0.1:${port}`,
			15_000,
			new Promise<void>((resolve, reject) => {
				server.server.once('error', reject);
				server.listen(port, '127.0.0.1', () => resolve());
			}),
		);
		return new LocalSmtpServer(server, port, credentials, received);
	}

	/** Resolves once `count` messages have arrived (or fails after `timeoutMs`). */
	async waitForMessages(count: number, timeoutMs = 60_000): Promise<ReceivedMail[]> {
		const deadline = Date.now() + timeoutMs;
		while (this.received.length < count) {
			if (Date.now() > deadline) throw new Error(`expected ${count} message(s) at the SMTP server within ${timeoutMs / 1000} s, got ${this.received.length}`);
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		return this.received.slice(0, count);
	}

	/** The n8n `smtp` credential for this server (n8n import:credentials format). */
	n8nCredential(id: string, name = 'SMTP (local)'): { id: string; name: string; type: string; data: Record<string, unknown> } {
		return {
			id,
			name,
			type: 'smtp',
			data: { user: this.credentials.user, password: this.credentials.password, host: this.host, port: this.port, secure: false, disableStartTls: true },
		};
	}

	async stop(): Promise<void> {
		// Open client sessions are closed by the server after this grace.
		await within('SMTP server close', 35_000, new Promise<void>((resolve) => this.server.close(() => resolve())));
	}
}

// ---------- S3 ----------

/** s3rver's one account (its fixed key pair). */
export const S3_ACCESS_KEY = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const S3_REGION = 'us-east-1';

export interface S3Request {
	method: string;
	/** Path and query as received. */
	url: string;
	/** Carried an AWS Signature V4 `Authorization` header. */
	signed: boolean;
	/** The signature (and the body's SHA-256 it names) checked out against the key pair. */
	verified: boolean;
	/** Status the client got. */
	status: number;
}

const rfc3986 = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * Checks an AWS Signature V4 `Authorization` header (S3 flavour: path segments decoded then
 * encoded once, `x-amz-content-sha256` the body's hash) against `secretAccessKey`, as S3 does.
 * Returns why it fails, or undefined when the signature is right.
 */
export function sigV4Problem(method: string, url: string, headers: http.IncomingHttpHeaders, body: Buffer, keys = S3_ACCESS_KEY): string | undefined {
	const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(String(headers.authorization ?? ''));
	if (!match) return 'not an AWS4-HMAC-SHA256 Authorization header for s3';
	const [, accessKeyId, date, region, signedHeaders, signature] = match;
	if (accessKeyId !== keys.accessKeyId) return `unknown access key ${accessKeyId}`;
	const amzDate = String(headers['x-amz-date'] ?? '');
	if (!amzDate.startsWith(date)) return 'x-amz-date does not match the credential scope';
	const payloadHash = String(headers['x-amz-content-sha256'] ?? '');
	if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256(body)) return 'x-amz-content-sha256 is not the SHA-256 of the body';
	const [rawPath, rawQuery = ''] = url.split('?', 2);
	const canonicalPath = rawPath
		.split('/')
		.map((piece) => rfc3986(decodeURIComponent(piece.replace(/\+/g, ' '))))
		.join('/');
	const canonicalQuery = rawQuery
		.split('&')
		.filter(Boolean)
		.map((pair) => {
			const [key, value = ''] = pair.split('=', 2).map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
			return [rfc3986(key), rfc3986(value)];
		})
		.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
		.map(([key, value]) => `${key}=${value}`)
		.join('&');
	const names = signedHeaders.split(';');
	if (!names.includes('host')) return 'host is not a signed header';
	const canonicalHeaders = names.map((name) => `${name}:${String(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
	const canonicalRequest = [method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
	const scope = `${date}/${region}/s3/aws4_request`;
	const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
	const signingKey = hmac(hmac(hmac(hmac(`AWS4${keys.secretAccessKey}`, date), region), 's3'), 'aws4_request');
	const expected = createHmac('sha256', signingKey).update(stringToSign).digest();
	const given = Buffer.from(signature, 'hex');
	return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : 'SignatureDoesNotMatch';
}

/**
 * s3rver behind a front on the public port that checks every signed request's AWS Signature V4
 * (s3rver itself checks only the access key ID of a V4 request) and logs what it saw; requests
 * that pass go on to s3rver unchanged. Unsigned requests (the test's own reads) pass as s3rver's
 * anonymous access.
 */
export class LocalS3Server {
	private constructor(
		private readonly front: http.Server,
		private readonly server: S3rver,
		readonly port: number,
		readonly buckets: string[],
		private readonly directory: string,
		/** Every request the front received, in arrival order. */
		readonly requests: S3Request[],
	) {}

	/** Listens on 127.0.0.1 (a free port) with `buckets` created, storing objects in a fresh temporary folder. */
	static async start(buckets: string[]): Promise<LocalS3Server> {
		const directory = realpathSync(mkdtempSync(path.join(tmpdir(), 'bria-s3-')));
		const innerPort = await freePort();
		const server = new S3rver({
			address: '127.0.0.1',
			port: innerPort,
			silent: true,
			directory,
			allowMismatchedSignatures: false,
			vhostBuckets: false,
			configureBuckets: buckets.map((name) => ({ name, configs: [] })),
		});
		const requests: S3Request[] = [];
		const front = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (chunk: Buffer) => chunks.push(chunk));
			req.on('error', () => res.destroy());
			req.on('end', () => {
				const body = Buffer.concat(chunks);
				const method = req.method ?? 'GET';
				const url = req.url ?? '/';
				const signed = req.headers.authorization !== undefined;
				const problem = signed ? sigV4Problem(method, url, req.headers, body) : undefined;
				const entry: S3Request = { method, url, signed, verified: signed && !problem, status: 0 };
				requests.push(entry);
				if (problem) {
					entry.status = 403;
					res.writeHead(403, { 'Content-Type': 'application/xml' });
					res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>${problem.replace(/[<>&]/g, '')}</Message></Error>`);
					return;
				}
				const upstream = http.request({ host: '127.0.0.1', port: innerPort, method, path: url, headers: req.headers }, (answer) => {
					entry.status = answer.statusCode ?? 0;
					res.writeHead(answer.statusCode ?? 502, answer.headers);
					answer.pipe(res);
				});
				upstream.on('error', () => res.destroy());
				upstream.end(body);
			});
		});
		front.on('clientError', (_error, socket) => socket.destroy());
		let port = 0;
		try {
			await within(`S3 server on 127.0.0.1:${innerPort}`, 15_000, server.run());
			port = await freePort();
			await within(
				`S3 front on 127.0.0.1:${port}`,
				15_000,
				new Promise<void>((resolve, reject) => {
					front.once('error', reject);
					front.listen(port, '127.0.0.1', () => resolve());
				}),
			);
		} catch (error) {
			front.close();
			await server.close().catch(() => undefined);
			await rm(directory, { recursive: true, force: true });
			throw error;
		}
		return new LocalS3Server(front, server, port, buckets, directory, requests);
	}

	get endpoint(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	/** The object's bytes and content type, read back over the S3 protocol (path style); undefined when missing. */
	async getObject(bucket: string, key: string): Promise<{ bytes: Buffer; contentType: string | null } | undefined> {
		const url = `${this.endpoint}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
		const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
		const bytes = Buffer.from(await response.arrayBuffer());
		if (response.status === 404) return undefined;
		if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${bytes.toString('utf8').slice(0, 300)}`);
		return { bytes, contentType: response.headers.get('content-type') };
	}

	/** Keys in a bucket (ListObjects, path style). */
	async listKeys(bucket: string): Promise<string[]> {
		const response = await fetch(`${this.endpoint}/${encodeURIComponent(bucket)}?list-type=2`, { signal: AbortSignal.timeout(30_000) });
		const xml = await response.text();
		if (!response.ok) throw new Error(`ListObjectsV2 ${bucket}: HTTP ${response.status} ${xml.slice(0, 300)}`);
		return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]);
	}

	/** The n8n `s3` credential (generic S3: custom endpoint, path style) for this server. */
	n8nCredential(id: string, name = 'S3 (local)'): { id: string; name: string; type: string; data: Record<string, unknown> } {
		return {
			id,
			name,
			type: 's3',
			data: { endpoint: this.endpoint, region: S3_REGION, ...S3_ACCESS_KEY, forcePathStyle: true, ignoreSSLIssues: false },
		};
	}

	async stop(): Promise<void> {
		try {
			this.front.closeAllConnections();
			await within('S3 front close', 15_000, new Promise<void>((resolve) => this.front.close(() => resolve())));
			await within('S3 server close', 15_000, this.server.close());
		} finally {
			await rm(this.directory, { recursive: true, force: true });
		}
	}
}
