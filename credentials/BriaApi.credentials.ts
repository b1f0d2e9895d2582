import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export class BriaApi implements ICredentialType {
	name = 'briaApi';

	displayName = 'Bria API';

	icon = { light: 'file:../nodes/BriaTailored/bria.svg', dark: 'file:../nodes/BriaTailored/bria.dark.svg' } as const;

	documentationUrl = 'https://docs.bria.ai/';

	properties: INodeProperties[] = [
		{
			displayName: 'API Token',
			name: 'apiToken',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description: 'Your organization\'s API token from platform.bria.ai → API keys. Sent only to the Base URL below.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://engine.prod.bria-api.com',
			description: 'Bria API host. Change it only to go through a proxy or to a Bria-compatible test server.',
		},
		{
			// Shown while the Base URL is plain http:// to a host other than this machine.
			displayName:
				'Plain http:// sends the API token unencrypted over the network. Use https:// unless this host is on a network you trust.',
			name: 'plainHttpWarning',
			type: 'notice',
			default: '',
			displayOptions: {
				// n8n's regex condition takes no flags: URL schemes and host names are case-insensitive.
				show: {
					baseUrl: [
						{
							_cnd: {
								regex:
									'^\\s*[hH][tT][tT][pP]://(?!([lL][oO][cC][aA][lL][hH][oO][sS][tT]|127\\.\\d+\\.\\d+\\.\\d+|\\[::1\\])(:\\d+)?(/|$))',
							},
						},
					],
				},
			},
		},
		{
			displayName: 'Requests per Minute (Plan)',
			name: 'requestsPerMinute',
			type: 'number',
			default: 0,
			typeOptions: { minValue: 0, numberPrecision: 0 },
			description:
				'Your organization\'s rate limit per endpoint: 10 on Free, 60 on Pay-as-you-go, your number on Enterprise. Every workflow using this credential in this n8n process shares it, so none gets a 429. In queue mode enter the whole plan: busy workers share it by themselves. 0 = unknown: learned from Bria\'s answers.',
		},
	];

	// Bria wants the raw token in a header literally named `api_token` (no "Bearer").
	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				api_token: '={{$credentials.apiToken}}',
			},
		},
	};

	// Listing tailored models is free and needs a valid token: a cheap authenticated check. Like the
	// node: an empty Base URL means Bria's, and no redirect is followed (it would carry the token along).
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{(String($credentials.baseUrl || "").trim() || "https://engine.prod.bria-api.com").replace(/\\/+$/, "")}}',
			url: '/v1/tailored-gen/models',
			method: 'GET',
			disableFollowRedirect: true,
		},
	};
}
