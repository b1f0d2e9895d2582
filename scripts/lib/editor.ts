/**
 * The n8n editor in headless Chromium (Debian's package, driven by playwright-core): sign in, open
 * a node's panel (NDV) straight from its URL, read which parameters it shows, take screenshots.
 * Shared by `npm run screenshots` and the e2e panel check.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

import type { Log } from './n8n';
import { DEFAULT_OWNER } from './n8n';
import type { Owner } from './n8n';
import { repoRoot, run } from './processes';

export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

/** /usr/bin/chromium, installed with apt-get by scripts/install-chromium.sh when missing. */
export async function ensureChromium(log: Log = (text) => process.stderr.write(text)): Promise<string> {
	const wanted = process.env.CHROMIUM_PATH?.trim() || '/usr/bin/chromium';
	if (existsSync(wanted)) return wanted;
	const result = await run('bash', [path.join(repoRoot(), 'scripts', 'install-chromium.sh')], {
		env: { ...process.env, CHROMIUM_PATH: wanted },
		timeoutMs: 10 * 60_000,
		onStderr: (chunk) => log(chunk),
	});
	const found = result.stdout.trim().split('\n').pop()?.trim() ?? wanted;
	if (!existsSync(found)) throw new Error(`install-chromium.sh finished but ${found} does not exist`);
	return found;
}

export async function launchChromium(executablePath: string): Promise<Browser> {
	return await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export class Editor {
	private constructor(
		readonly page: Page,
		readonly baseUrl: string,
	) {}

	/** A new page signed in as the owner (set up beforehand through the REST API). */
	static async signIn(browser: Browser, baseUrl: string, owner: Owner = DEFAULT_OWNER): Promise<Editor> {
		const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
		page.setDefaultTimeout(30_000);
		await page.goto(`${baseUrl}/signin`);
		await page.locator('[data-test-id="emailOrLdapLoginId"] input').fill(owner.email);
		await page.locator('[data-test-id="password"] input').fill(owner.password);
		await page.locator('[data-test-id="form-submit-button"]').click();
		await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
		return new Editor(page, baseUrl);
	}

	/** Opens a workflow on its canvas. */
	async openWorkflow(workflowId: string): Promise<void> {
		await this.page.goto(`${this.baseUrl}/workflow/${workflowId}`);
		await this.page.locator('[data-test-id="canvas-node"]').first().waitFor({ state: 'visible' });
		await this.settle();
	}

	/** Zooms the canvas so every node is in view. */
	async fitView(): Promise<void> {
		await this.page.locator('[data-test-id="zoom-to-fit"]').first().click();
		await this.settle();
	}

	/** Opens a node's panel directly (n8n routes /workflow/<id>/<nodeId> to the open NDV). */
	async openNode(workflowId: string, nodeId: string): Promise<void> {
		await this.page.goto(`${this.baseUrl}/workflow/${workflowId}/${nodeId}`);
		await this.page.locator('[data-test-id="ndv"] [data-test-id="node-parameters"]').waitFor({ state: 'visible' });
		await this.settle();
	}

	/** What the parameters pane shows: parameter names and labels in order, and the "Add Option" choices. */
	async visibleParameters(): Promise<PanelContents> {
		return await this.page.evaluate(() => {
			const root = document.querySelector('[data-test-id="ndv"] [data-test-id="node-parameters"]');
			if (!root) throw new Error('no node parameters pane');
			const shown = (el: Element) => el.getClientRects().length > 0;
			const names = Array.from(root.querySelectorAll('[data-test-id^="parameter-input-"]'))
				.filter(shown)
				.map((el) => (el.getAttribute('data-test-id') ?? '').slice('parameter-input-'.length))
				.filter((name) => name !== 'field' && name !== 'item');
			const labels = Array.from(root.querySelectorAll('[data-test-id="input-label"]'))
				.filter(shown)
				.map((el) => (el.querySelector('label .n8n-text') ?? el.querySelector('label') ?? el).textContent?.replace(/\s+/g, ' ').trim() ?? '');
			// The "Add Option" list is rendered (hidden) up front; one panel is open at a time.
			const options = Array.from(document.querySelectorAll('[data-test-id="collection-parameter-option"]')).map(
				(el) => el.textContent?.replace(/\s+/g, ' ').trim() ?? '',
			);
			const credential = document.querySelector('[data-test-id="ndv"] [data-test-id="credentials-label"]') ? 'Credential' : undefined;
			return { names, labels, options, credential };
		});
	}

	/**
	 * Opens the model picker's list (served by the node's listSearch method) and returns its entries
	 * once the list has loaded. While listSearch runs, n8n already shows the saved choice (by its
	 * cached name) above placeholder rows, so the first entry alone is not the list: wait until the
	 * list holds nothing but entries, as a user waits for the placeholders to go.
	 */
	async modelListEntries(timeoutMs = 60_000): Promise<string[]> {
		const input = this.page.locator('[data-test-id="ndv"] [data-test-id="rlc-input"]').first();
		await input.click();
		const items = this.page.locator('[data-test-id="rlc-item"]');
		await items.first().waitFor({ state: 'visible' });
		await this.page.waitForFunction(
			() => {
				const list = document.querySelector('[data-test-id="rlc-item"]')?.parentElement;
				if (!list) return false;
				// Entries, the "add" row some pickers have, and nothing else (the loading rows are plain divs).
				return Array.from(list.children).every((row) => (row.getAttribute('data-test-id') ?? '').startsWith('rlc-item'));
			},
			undefined,
			{ timeout: timeoutMs },
		);
		await this.settle();
		return (await items.allTextContents()).map((text) => text.replace(/\s+/g, ' ').trim());
	}

	/**
	 * Opens an options parameter's dropdown in the open panel (as a user clicks it), returns the
	 * choices' names in display order and closes it again with Escape.
	 */
	async dropdownChoices(parameterName: string): Promise<string[]> {
		await this.parameter(parameterName).locator('input').first().click();
		await this.page.locator('.el-select-dropdown__item:visible').first().waitFor({ state: 'visible' });
		const choices = await this.page.evaluate(() =>
			Array.from(document.querySelectorAll('.el-select-dropdown__item'))
				.filter((el) => el.getClientRects().length > 0)
				.map((el) => (el.querySelector('.option-headline') ?? el).textContent?.replace(/\s+/g, ' ').trim() ?? ''),
		);
		await this.page.keyboard.press('Escape');
		await this.page.locator('.el-select-dropdown__item:visible').first().waitFor({ state: 'hidden' });
		return choices;
	}

	/** Flips a boolean parameter's switch in the open panel and waits until it shows `on`. */
	async setSwitch(parameterName: string, on: boolean): Promise<void> {
		if ((await this.switchIsOn(parameterName)) !== on) await this.parameter(parameterName).locator('.el-switch').first().click();
		await this.page.waitForFunction(
			({ name, wanted }) => {
				const el = document.querySelector(`[data-test-id="ndv"] [data-test-id="parameter-input-${name}"] .el-switch`);
				return el?.classList.contains('is-checked') === wanted;
			},
			{ name: parameterName, wanted: on },
		);
	}

	/** Waits until a parameter input of the open panel is shown (`visible`) or gone (`hidden`). */
	async waitForParameter(parameterName: string, state: 'visible' | 'hidden'): Promise<void> {
		await this.parameter(parameterName).waitFor({ state });
	}

	/**
	 * Adds an option of the Options collection as a user does, and waits for its field: picks it from
	 * the "Add Option" list, or, where the collection has a single option, clicks the "Add Option"
	 * button n8n shows instead of a list (it adds that option directly).
	 */
	async addOption(displayName: string, parameterName: string): Promise<void> {
		const add = this.page.locator('[data-test-id="ndv"] [data-test-id="collection-parameter-add"]').first();
		const isList = (await add.locator('input').count()) > 0;
		await add.click();
		if (isList) await this.page.locator('[data-test-id="collection-parameter-option"]:visible').filter({ hasText: displayName }).first().click();
		await this.waitForParameter(parameterName, 'visible');
	}

	/** Whether a boolean parameter's switch is on. */
	async switchIsOn(parameterName: string): Promise<boolean> {
		const classes = await this.parameter(parameterName).locator('.el-switch').first().getAttribute('class');
		return (classes ?? '').split(/\s+/).includes('is-checked');
	}

	/** The text in a parameter's input box (what the user reads there). */
	async parameterValue(parameterName: string): Promise<string> {
		return await this.parameter(parameterName).locator('input').first().inputValue();
	}

	/** Types a value into a parameter's input box and leaves it (Tab), as a user does; returns what the box then holds. */
	async typeInto(parameterName: string, value: string): Promise<string> {
		const input = this.parameter(parameterName).locator('input').first();
		await input.fill(value);
		await input.press('Tab');
		return await input.inputValue();
	}

	/**
	 * The description n8n shows for a parameter: the tooltip of the "?" icon beside its label, which
	 * appears once the pointer rests on the label and then on the icon.
	 */
	async parameterTooltip(parameterName: string): Promise<string> {
		const label = this.page
			.locator('[data-test-id="ndv"] [data-test-id="input-label"]')
			.filter({ has: this.page.locator(`[data-test-id="parameter-input-${parameterName}"]`) })
			.first();
		await label.locator('label').first().hover();
		await label.locator('label [data-grace-area-trigger]').first().hover();
		const tooltip = this.page.locator('.n8n-tooltip:visible').filter({ hasText: /\S/ }).first();
		await tooltip.waitFor({ state: 'visible' });
		const text = (await tooltip.textContent())?.replace(/\s+/g, ' ').trim() ?? '';
		await this.page.mouse.move(0, 0);
		return text;
	}

	/** Labels of the open panel's fields that the AI model fills ("Defined automatically by the model"), in order. */
	async definedByModel(): Promise<string[]> {
		return await this.page.evaluate(() =>
			Array.from(document.querySelectorAll('[data-test-id="ndv"] [data-test-id="input-label"]'))
				.filter((label) => label.getClientRects().length > 0 && label.querySelector('[data-test-id="fromAI-override-field"]'))
				.map((label) => (label.querySelector('label .n8n-text') ?? label).textContent?.replace(/\s+/g, ' ').trim() ?? ''),
		);
	}

	private parameter(parameterName: string) {
		return this.page.locator(`[data-test-id="ndv"] [data-test-id="parameter-input-${parameterName}"]`).first();
	}

	/** Clicks "Execute workflow" and waits until `nodeCount` nodes show success (failing fast on an error mark). */
	async runWorkflow(nodeCount: number, timeoutMs = 90_000): Promise<void> {
		await this.page.locator('[data-test-id="execute-workflow-button"]').first().click();
		await this.page.waitForFunction(
			(expected) => {
				if (document.querySelector('[data-test-id="canvas-node-status-error"]')) return true;
				const done = document.querySelectorAll('[data-test-id="canvas-node-status-success"]').length >= expected;
				return done && !document.querySelector('[data-test-id="stop-execution-button"]');
			},
			nodeCount,
			{ timeout: timeoutMs },
		);
		if (await this.page.locator('[data-test-id="canvas-node-status-error"]').count())
			throw new Error('the workflow run in the editor ended with a node error');
		await this.settle(1_000);
	}

	/** Opens a node's panel by double-clicking it on the canvas (keeps the editor's run data, unlike a reload). */
	async openNodeOnCanvas(nodeName: string): Promise<void> {
		await this.page.locator(`[data-test-id="canvas-node"][data-node-name="${nodeName}"]`).dblclick();
		await this.page.locator('[data-test-id="ndv"] [data-test-id="node-parameters"]').waitFor({ state: 'visible' });
		await this.settle();
	}

	async screenshot(file: string, what: 'page' | 'ndv' = 'page'): Promise<void> {
		if (what === 'ndv') await this.page.locator('[data-test-id="ndv"]').first().screenshot({ path: file });
		else await this.page.screenshot({ path: file });
	}

	async close(): Promise<void> {
		await this.page.close();
	}

	/** Lets animations and lazy panels finish before reading or capturing. */
	async settle(ms = 600): Promise<void> {
		await this.page.waitForTimeout(ms);
	}
}

export interface PanelContents {
	/** Parameter names (as saved in workflows) of the visible inputs, in display order. */
	names: string[];
	labels: string[];
	/** Entries of the Options collection's "Add Option" list. */
	options: string[];
	credential?: string;
}
