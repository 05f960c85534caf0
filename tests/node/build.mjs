// Bundle a page (or a server-side entry) with Vite and the official Svelte plugin, as a SvelteKit app would.
//
// Usage: node build.mjs '{"root": DIR, "outDir": DIR, "alias": {"$lib": DIR, ...}, "ssr": "entry.ts" | null}'
// Prints {"warnings": [...]} on success; exits 1 with the error on failure. A Svelte compiler
// warning reaches Vite's logger, which we collect: generated components must produce none.
import { build, createLogger } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const options = JSON.parse(process.argv[2]);
const warnings = [];
const logger = createLogger('warn', { allowClearScreen: false });
const warn = logger.warn.bind(logger);
logger.warn = (msg, opts) => {
	warnings.push(String(msg));
	warn(msg, opts);
};

try {
	await build({
		root: options.root,
		configFile: false,
		logLevel: 'warn',
		customLogger: logger,
		plugins: [
			svelte({
				onwarn(warning) {
					warnings.push(`${warning.code}: ${warning.message} (${warning.filename})`);
				}
			})
		],
		resolve: { alias: options.alias },
		build: {
			outDir: options.outDir,
			emptyOutDir: true,
			minify: false,
			reportCompressedSize: false,
			ssr: options.ssr ?? false,
			rollupOptions: options.ssr ? { output: { format: 'es', entryFileNames: 'entry.mjs' } } : undefined
		},
		ssr: options.ssr ? { noExternal: true } : undefined
	});
	process.stdout.write(JSON.stringify({ warnings }));
} catch (err) {
	process.stderr.write(String(err?.stack ?? err));
	process.exit(1);
}
