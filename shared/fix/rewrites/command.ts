/**
 * A shell command line assembled from literals and values, as an argument vector: literal text splits at
 * spaces, each value must be a whole argument, and the program must be a literal. Text that needs a shell
 * (pipes, redirection, quoting, globbing, variables, `;`/`&&`) has no argument-vector form and is left alone.
 */

export type CommandPart = { readonly literal: string } | { readonly value: string };

const NEEDS_SHELL = /[|&;<>()$`\\"'*?[\]{}~!#\n]/;

export function commandArgv(parts: readonly CommandPart[]): CommandPart[] | undefined {
  const tokens: CommandPart[] = [];
  let gluedToPrevious = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as CommandPart;
    if ('literal' in part) {
      if (NEEDS_SHELL.test(part.literal)) return undefined;
      const words = part.literal.split(/[ \t]+/);
      // A word touching a neighbouring value would need both joined into one argument.
      if (gluedToPrevious && words[0] !== '') return undefined;
      const next = parts[i + 1];
      if (next && 'value' in next && words[words.length - 1] !== '') return undefined;
      for (const w of words) if (w !== '') tokens.push({ literal: w });
      gluedToPrevious = false;
    } else {
      tokens.push(part);
      gluedToPrevious = true;
    }
  }
  const program = tokens[0];
  return program && 'literal' in program ? tokens : undefined;
}
