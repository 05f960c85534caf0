// The deprecation diagnostics TypeScript's language service reports for one file (what editors show
// struck through): node deprecations.mjs TSCONFIG FILE -> JSON [{line, code, message}], lines from 1.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const [configPath, file] = process.argv.slice(2);
const config = ts.getParsedCommandLineOfConfigFile(path.resolve(configPath), {}, {
	...ts.sys,
	onUnRecoverableConfigFileDiagnostic: (d) => {
		throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
	}
});
const target = path.resolve(file);
const host = {
	getScriptFileNames: () => config.fileNames,
	getScriptVersion: () => '1',
	getScriptSnapshot: (name) => (fs.existsSync(name) ? ts.ScriptSnapshot.fromString(fs.readFileSync(name, 'utf8')) : undefined),
	getCurrentDirectory: () => path.dirname(path.resolve(configPath)),
	getCompilationSettings: () => config.options,
	getDefaultLibFileName: (options) => ts.getDefaultLibFilePath(options),
	fileExists: ts.sys.fileExists,
	readFile: ts.sys.readFile,
	readDirectory: ts.sys.readDirectory,
	directoryExists: ts.sys.directoryExists,
	getDirectories: ts.sys.getDirectories
};
const service = ts.createLanguageService(host, ts.createDocumentRegistry());
const source = service.getProgram().getSourceFile(target);
const found = service
	.getSuggestionDiagnostics(target)
	.filter((d) => d.reportsDeprecated)
	.map((d) => ({
		line: source.getLineAndCharacterOfPosition(d.start).line + 1,
		code: d.code,
		message: ts.flattenDiagnosticMessageText(d.messageText, '\n')
	}));
process.stdout.write(JSON.stringify(found) + '\n');
