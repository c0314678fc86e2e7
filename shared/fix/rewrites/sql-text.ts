/**
 * Turning SQL text assembled from literals and values into placeholder text plus the bound values. A value may
 * only become a parameter where SQL expects a value: inside a quoted string ('...' + v + '...') or right after a
 * comparison, `IN (`, `VALUES (`, `LIMIT` or a comma inside parentheses. Anything else (a table or procedure
 * name, a whole clause) has no parameterised form, and the text is left alone.
 */

export type SqlPart = { readonly literal: string } | { readonly value: string };

export interface ParameterisedSql {
  /** The SQL text with placeholders (without the host language's quotes). */
  readonly text: string;
  /** Source text of each bound value, in placeholder order. */
  readonly values: readonly string[];
  /** 1-based position of each new placeholder among all placeholders of the text (existing `?` counted). */
  readonly positions: readonly number[];
}

const VALUE_POSITION = /(?:[=<>]|<>|!=|\b(?:like|in\s*\(|values\s*\(|limit|offset)|\(\s*|,\s*)\s*$/i;

/**
 * `placeholder(n)` renders the n-th placeholder (1-based over the new ones and any `?` already in the text).
 * `existing` counts placeholders that already occur in a literal (`?` for JDBC style drivers; undefined when the
 * style has none that could be confused).
 */
export function parameteriseSql(parts: readonly SqlPart[], placeholder: (n: number) => string, existing?: RegExp): ParameterisedSql | undefined {
  const items = parts.map((p) => ({ ...p }));
  let text = '';
  const values: string[] = [];
  const positions: number[] = [];
  let count = 0;
  for (let i = 0; i < items.length; i++) {
    const part = items[i] as SqlPart;
    if ('literal' in part) {
      const found = existing ? (part.literal.match(existing)?.length ?? 0) : 0;
      // A literal placeholder after a new one would shift the indexes the existing code binds it at.
      if (found > 0 && values.length > 0) return undefined;
      count += found;
      text += part.literal;
      continue;
    }
    const next = items[i + 1];
    const nextLiteral = next && 'literal' in next ? next.literal : '';
    const inQuote = (text.match(/'/g)?.length ?? 0) % 2 === 1;
    if (inQuote) {
      // Only a value that is the whole quoted string ('...' + v + '...' with nothing else between the quotes).
      if (!text.endsWith("'") || !nextLiteral.startsWith("'") || !next || !('literal' in next)) return undefined;
      text = text.slice(0, -1);
      items[i + 1] = { literal: nextLiteral.slice(1) };
    } else if (!VALUE_POSITION.test(text) || !/^(?:$|[\s),;])/.test(nextLiteral)) {
      return undefined;
    }
    count++;
    text += placeholder(count);
    values.push(part.value);
    positions.push(count);
  }
  if (values.length === 0 || (text.match(/'/g)?.length ?? 0) % 2 !== 0) return undefined;
  return { text, values, positions };
}
