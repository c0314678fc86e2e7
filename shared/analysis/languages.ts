/**
 * Languages the scanner parses. JavaScript, TypeScript and TSX are built into @ast-grep/napi; the others are
 * tree-sitter grammars from @ast-grep/lang-* registered once as dynamic languages. Adding a language means one
 * entry in LANGUAGES (and its LanguageId in types.ts).
 */
import { createRequire } from 'node:module';
import { Lang, parse, registerDynamicLanguage, type SgRoot } from '@ast-grep/napi';
import type { LanguageId } from './types.ts';

interface LanguageSpec {
  /** The name ast-grep knows the language by. */
  readonly astGrepName: string;
  readonly extensions: readonly string[];
  /** Interpreter names that mark an extension-less script, e.g. `python3` in `#!/usr/bin/env python3`. */
  readonly interpreters: readonly string[];
  /** npm package of a dynamically loaded grammar. */
  readonly dynamicPackage?: string;
  /** Single-line comment prefix, used by suppressions and rule-test fixtures. */
  readonly lineComment: string;
}

export const LANGUAGES: Readonly<Record<LanguageId, LanguageSpec>> = {
  javascript: { astGrepName: Lang.JavaScript, extensions: ['.js', '.mjs', '.cjs', '.jsx'], interpreters: ['node', 'nodejs', 'deno', 'bun'], lineComment: '//' },
  typescript: { astGrepName: Lang.TypeScript, extensions: ['.ts', '.mts', '.cts'], interpreters: ['tsx', 'ts-node'], lineComment: '//' },
  tsx: { astGrepName: Lang.Tsx, extensions: ['.tsx'], interpreters: [], lineComment: '//' },
  python: { astGrepName: 'python', extensions: ['.py', '.pyw', '.pyi'], interpreters: ['python', 'python2', 'python3'], dynamicPackage: '@ast-grep/lang-python', lineComment: '#' },
  java: { astGrepName: 'java', extensions: ['.java'], interpreters: [], dynamicPackage: '@ast-grep/lang-java', lineComment: '//' },
  go: { astGrepName: 'go', extensions: ['.go'], interpreters: [], dynamicPackage: '@ast-grep/lang-go', lineComment: '//' },
};

export const LANGUAGE_IDS = Object.keys(LANGUAGES) as LanguageId[];

const byExtension = new Map<string, LanguageId>();
const byInterpreter = new Map<string, LanguageId>();
for (const id of LANGUAGE_IDS) {
  for (const ext of LANGUAGES[id].extensions) byExtension.set(ext, id);
  for (const name of LANGUAGES[id].interpreters) byInterpreter.set(name, id);
}

interface DynamicRegistration {
  readonly libraryPath: string;
  readonly extensions: string[];
  readonly languageSymbol?: string;
  readonly expandoChar?: string;
}

let registered = false;

/** Registers the dynamic grammars; ast-grep allows a single registration per process, so this runs once. */
export function ensureLanguagesRegistered(): void {
  if (registered) return;
  const require = createRequire(import.meta.url);
  const registrations: Record<string, DynamicRegistration> = {};
  for (const id of LANGUAGE_IDS) {
    const pkg = LANGUAGES[id].dynamicPackage;
    if (pkg) registrations[LANGUAGES[id].astGrepName] = require(pkg) as DynamicRegistration;
  }
  registerDynamicLanguage(registrations);
  registered = true;
}

function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/** The language of a file from its extension, or for an extension-less script from its shebang line. */
export function detectLanguage(path: string, source?: string): LanguageId | undefined {
  const ext = extensionOf(path);
  if (ext) return byExtension.get(ext);
  if (source === undefined || !source.startsWith('#!')) return undefined;
  const line = source.slice(2, source.indexOf('\n') === -1 ? undefined : source.indexOf('\n')).trim();
  const words = line.split(/\s+/);
  // `#!/usr/bin/env -S node --flag` and `#!/usr/bin/python3.11` both name the interpreter.
  const program = words[0]?.endsWith('/env') ? words.find((w, i) => i > 0 && !w.startsWith('-')) : words[0];
  const name = program?.slice(program.lastIndexOf('/') + 1).replace(/[\d.]+$/, '');
  if (!name) return undefined;
  return byInterpreter.get(name) ?? byInterpreter.get(`${name}3`);
}

export function astGrepLanguage(language: LanguageId): string {
  return LANGUAGES[language].astGrepName;
}

/** Parses source with the language's grammar; the one parse every analyzer of a file shares. */
export function parseSource(language: LanguageId, source: string): SgRoot {
  ensureLanguagesRegistered();
  return parse(astGrepLanguage(language), source);
}
