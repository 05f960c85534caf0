// TypeScript in Svelte 4 components: TypeScript's own transpiler with verbatimModuleSyntax, as
// svelte-preprocess and vitePreprocess do, so a value import used only as a store ($socket) survives
// and `import type` lines disappear. Svelte 5 strips types itself and needs none of this.
import ts from 'typescript';

export function typescriptPreprocessor(filename) {
	return {
		script({ content, attributes }) {
			if (attributes.lang !== 'ts') return;
			const out = ts.transpileModule(content, {
				fileName: filename,
				reportDiagnostics: true,
				compilerOptions: {
					target: ts.ScriptTarget.ES2022,
					module: ts.ModuleKind.ESNext,
					verbatimModuleSyntax: true,
					sourceMap: false
				}
			});
			const problems = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
			if (problems.length) {
				throw new Error(ts.flattenDiagnosticMessageText(problems[0].messageText, '\n'));
			}
			return { code: out.outputText };
		}
	};
}
