// Bundle a page (or a server-side entry) with Vite, as a Svelte app would be bundled.
//
// Usage: node build.mjs '{"root": DIR, "outDir": DIR, "alias": {"$lib": DIR, ...},
//                         "input": "index.html", "ssr": "entry.ts" | null, "svelte": "5" | "4"}'
// Svelte 5 goes through the official plugin (@sveltejs/vite-plugin-svelte). Svelte 4 goes through a
// small plugin calling the Svelte 4 compiler, with every `svelte` import resolved to Svelte 4's runtime.
// Prints {"warnings": [...]} on success, exits 1 with the error on failure. Compiler warnings are
// collected: generated components must produce none.
import { resolve } from 'node:path';
import { build, createLogger } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import * as svelte4 from 'svelte4/compiler';
import { typescriptPreprocessor } from './svelte4-typescript.mjs';

const options = JSON.parse(process.argv[2]);
const warnings = [];
const logger = createLogger('warn', { allowClearScreen: false });
const warn = logger.warn.bind(logger);
logger.warn = (msg, opts) => {
	warnings.push(String(msg));
	warn(msg, opts);
};

function svelte4Plugin() {
	return {
		name: 'eventgen-tests:svelte4',
		enforce: 'pre',
		async transform(code, id) {
			if (!id.endsWith('.svelte')) return null;
			const pre = await svelte4.preprocess(code, typescriptPreprocessor(id), { filename: id });
			const out = svelte4.compile(pre.code, { filename: id, generate: 'dom', css: 'injected' });
			for (const w of out.warnings) warnings.push(`${w.code}: ${w.message} (${id})`);
			return { code: out.js.code, map: out.js.map };
		}
	};
}

const legacy = options.svelte === '4';
const alias = Object.entries(options.alias).map(([find, replacement]) => ({ find, replacement }));
if (legacy) alias.push({ find: /^svelte(?=\/|$)/, replacement: 'svelte4' });

try {
	await build({
		root: options.root,
		configFile: false,
		base: './',
		logLevel: 'warn',
		customLogger: logger,
		plugins: legacy
			? [svelte4Plugin()]
			: [svelte({ onwarn: (w) => warnings.push(`${w.code}: ${w.message} (${w.filename})`) })],
		resolve: { alias },
		build: {
			outDir: options.outDir,
			emptyOutDir: true,
			minify: false,
			reportCompressedSize: false,
			ssr: options.ssr ?? false,
			rollupOptions: options.ssr
				? { output: { format: 'es', entryFileNames: 'entry.mjs' } }
				: { input: resolve(options.root, options.input ?? 'index.html') }
		},
		ssr: options.ssr ? { noExternal: true } : undefined
	});
	process.stdout.write(JSON.stringify({ warnings }));
} catch (err) {
	process.stderr.write(String(err?.stack ?? err));
	process.exit(1);
}
