/**
 * Event-driven test workflows shared by the webhook and queue-mode suites: a CMS event answered with
 * the generated image's JSON, and a Form Trigger rendering an image. (They were the first examples;
 * the recipes in examples/ took their place there and run end to end in recipes.test.ts.)
 */
import { randomUUID } from 'node:crypto';

import type { WorkflowFile } from '../../scripts/lib/n8n';
import { briaNode, linearWorkflow, modelById } from '../../scripts/lib/workflows';
import type { CredentialRef } from '../../scripts/lib/workflows';

/** Webhook `POST /webhook/bria-cms-event` → Bria (16:9 hero image) → Respond to Webhook with request_id, image_url, seed, structured_prompt. */
export function cmsEventWorkflow(id: string, credential: CredentialRef, modelId: number | string): WorkflowFile {
	return linearWorkflow(id, 'e2e: CMS event → hero image → respond', [
		{
			id: randomUUID(),
			name: 'CMS Event',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: randomUUID(),
			parameters: { httpMethod: 'POST', path: 'bria-cms-event', responseMode: 'responseNode', options: {} },
		},
		briaNode(
			'Generate Hero Image',
			{
				resource: 'image',
				operation: 'generate',
				model: modelById(modelId),
				inputMode: 'prompt',
				prompt: '=Hero image for the article "{{ $json.body.entry.title }}". {{ $json.body.entry.summary }}',
				waitForCompletion: true,
				options: { aspectRatio: '16:9' },
			},
			credential,
		),
		{
			id: randomUUID(),
			name: 'Respond to CMS',
			type: 'n8n-nodes-base.respondToWebhook',
			typeVersion: 1.1,
			position: [0, 0],
			parameters: {
				respondWith: 'json',
				responseBody: '={{ JSON.stringify({ request_id: $json.request_id, image_url: $json.image_url, seed: $json.seed, structured_prompt: $json.structured_prompt }) }}',
				options: {},
			},
		},
	]);
}

/** Form Trigger at `/form/bria-brand-image` (Prompt, Aspect Ratio; answers when the workflow finishes) → Bria. */
export function brandImageFormWorkflow(id: string, credential: CredentialRef, modelId: number | string): WorkflowFile {
	return linearWorkflow(id, 'e2e: form → on-brand image', [
		{
			id: randomUUID(),
			name: 'Brand Image Form',
			type: 'n8n-nodes-base.formTrigger',
			typeVersion: 2.2,
			position: [0, 0],
			webhookId: randomUUID(),
			parameters: {
				formTitle: 'Request an on-brand image',
				formDescription: 'Describe the image you need. It is generated with our Bria tailored model.',
				formFields: {
					values: [
						{ fieldLabel: 'Prompt', fieldType: 'textarea', requiredField: true },
						{
							fieldLabel: 'Aspect Ratio',
							fieldType: 'dropdown',
							fieldOptions: { values: [{ option: '1:1' }, { option: '4:5' }, { option: '16:9' }, { option: '9:16' }] },
							requiredField: true,
						},
					],
				},
				responseMode: 'lastNode',
				options: { path: 'bria-brand-image', respondWithOptions: { values: { formSubmittedText: 'Thanks! Your image is ready.' } } },
			},
		},
		briaNode(
			'Generate Image',
			{
				resource: 'image',
				operation: 'generate',
				model: modelById(modelId),
				inputMode: 'prompt',
				prompt: '={{ $json.Prompt }}',
				waitForCompletion: true,
				options: { aspectRatio: "={{ $json['Aspect Ratio'] }}" },
			},
			credential,
		),
	]);
}
