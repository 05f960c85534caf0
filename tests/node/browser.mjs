// Drive Debian's Chromium with playwright-core for a Python test, one JSON command per line.
//
// Usage: node browser.mjs USER_DATA_DIR   (Chromium at $CHROMIUM or /usr/bin/chromium; never downloaded)
// Commands (stdin):  {"id", "op": "open", "page", "url"}            -> {"id", "ok": true}
//                    {"id", "op": "eval", "page", "expr"}           -> {"id", "ok": true, "value"}
//                    {"id", "op": "wait", "page", "expr", "timeout"} -> {"id", "ok": true, "value"}
//                    {"id", "op": "errors", "page"}                 -> {"id", "ok": true, "value": [...]}
//                    {"id", "op": "close"}
// A failed command answers {"id", "ok": false, "error"} and the driver keeps going.
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run'
];

const context = await chromium.launchPersistentContext(process.argv[2], {
	executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
	headless: true,
	args: FLAGS
});
const pages = new Map();
const errors = new Map();

async function page(name) {
	if (!pages.has(name)) {
		const p = await context.newPage();
		const list = [];
		p.on('pageerror', (err) => list.push(`pageerror: ${err.message}`));
		p.on('console', (msg) => {
			if (msg.type() === 'error' || msg.type() === 'warning') list.push(`console.${msg.type()}: ${msg.text()}`);
		});
		pages.set(name, p);
		errors.set(name, list);
	}
	return pages.get(name);
}

async function run(cmd) {
	switch (cmd.op) {
		case 'open': {
			const p = await page(cmd.page);
			await p.goto(cmd.url, { waitUntil: 'load' });
			await p.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 10000 });
			return null;
		}
		case 'eval':
			return await (await page(cmd.page)).evaluate(cmd.expr);
		case 'wait': {
			const handle = await (await page(cmd.page)).waitForFunction(cmd.expr, null, {
				timeout: cmd.timeout ?? 10000,
				polling: 50
			});
			return await handle.jsonValue();
		}
		case 'errors':
			await page(cmd.page);
			return errors.get(cmd.page);
		default:
			throw new Error(`unknown op ${cmd.op}`);
	}
}

const reply = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
reply({ ready: true });

for await (const line of createInterface({ input: process.stdin })) {
	if (!line.trim()) continue;
	const cmd = JSON.parse(line);
	if (cmd.op === 'close') break;
	try {
		reply({ id: cmd.id, ok: true, value: (await run(cmd)) ?? null });
	} catch (err) {
		reply({ id: cmd.id, ok: false, error: String(err?.message ?? err) });
	}
}
await context.close();
process.exit(0);
