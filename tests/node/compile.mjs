// Compile Svelte components with the real compilers and report every warning and error as JSON.
//
// Input (stdin): {"jobs": [{"file": "/abs/X.svelte", "svelte": "5" | "4", "generate": "client" | "server"}]}
// Output (stdout): {"results": [{"file", "svelte", "generate", "version", "warnings": [...], "error": null | {...}}]}
//
// Svelte 5 strips TypeScript itself; Svelte 4 gets it stripped first (svelte4-typescript.mjs).
import { readFileSync } from 'node:fs';
import * as svelte5 from 'svelte/compiler';
import * as svelte4 from 'svelte4/compiler';
import { typescriptPreprocessor } from './svelte4-typescript.mjs';

function position(start) {
	return start ? { line: start.line, column: start.column } : null;
}

function warningOf(w) {
	return { code: w.code, message: w.message, ...position(w.start) };
}

async function compileOne(job) {
	const source = readFileSync(job.file, 'utf8');
	const base = { file: job.file, svelte: job.svelte, generate: job.generate, warnings: [], error: null };
	try {
		if (job.svelte === '5') {
			const out = svelte5.compile(source, {
				filename: job.file,
				generate: job.generate === 'server' ? 'server' : 'client'
			});
			return { ...base, version: svelte5.VERSION, warnings: out.warnings.map(warningOf) };
		}
		const pre = await svelte4.preprocess(source, typescriptPreprocessor(job.file), { filename: job.file });
		const out = svelte4.compile(pre.code, {
			filename: job.file,
			generate: job.generate === 'server' ? 'ssr' : 'dom'
		});
		return { ...base, version: svelte4.VERSION, warnings: out.warnings.map(warningOf) };
	} catch (err) {
		return {
			...base,
			version: job.svelte === '5' ? svelte5.VERSION : svelte4.VERSION,
			error: { code: err.code ?? 'error', message: String(err.message ?? err), ...position(err.start) }
		};
	}
}

const input = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const job of input.jobs) {
	results.push(await compileOne(job));
}
process.stdout.write(JSON.stringify({ results }));
