/**
 * Which of many literal strings occur in a text, in one pass over it (an Aho–Corasick automaton over the text
 * with ASCII case folded). A literal with a capital letter must occur as written, checked only where it was
 * found folded; one without matches in any case. Checking a few hundred rule anchors with one `includes` each
 * read every file a few hundred times.
 */

const ASCII = 128;
/** Marks a side of a literal that must be a word boundary: `\beval\b` is `eval` as a whole word. */
export const BOUNDARY = '\\b';
const LEFT = 1;
const RIGHT = 2;

function isWordCode(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

/**
 * Whether text[start, end) stands as a whole word. The word before counts as a boundary too when it is only digits
 * (`1if`) or follows a backslash (an escape such as `\n` or `\x41` before string content).
 */
function bounded(text: string, start: number, end: number, sides: number): boolean {
  if (sides & RIGHT && end < text.length && isWordCode(text.charCodeAt(end))) return false;
  if (!(sides & LEFT) || start === 0 || !isWordCode(text.charCodeAt(start - 1))) return true;
  let p = start - 1;
  let digits = true;
  while (p >= 0 && isWordCode(text.charCodeAt(p))) {
    const code = text.charCodeAt(p);
    if (code < 48 || code > 57) digits = false;
    p--;
  }
  return digits || (p >= 0 && text[p] === '\\');
}

function fold(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

export class LiteralSet {
  /** `state * 128 + char` → next state, over lower-cased ASCII; any other character returns to the root. */
  private readonly delta: Int32Array;
  /** The literals that end at each state, its suffixes' included. */
  private readonly outputs: (readonly number[])[];
  /** 1 for states where some literal ends, so the scan reads `outputs` only there. */
  private readonly accepting: Uint8Array;
  /** Literals with non-ASCII characters, checked with `includes` on the lower-cased text. */
  private readonly others: readonly (readonly [number, string])[];
  /** Literals with a capital letter: found folded, then confirmed as written. */
  private readonly cased: readonly number[];
  /** Each literal without its boundary marks. */
  private readonly bare: readonly string[];
  /** Which sides of each literal must be word boundaries. */
  private readonly sides: Uint8Array;

  /** Literals may start or end with {@link BOUNDARY}: that side must then be a word boundary. */
  constructor(readonly literals: readonly string[]) {
    const goto: Map<number, number>[] = [new Map()];
    const ends: number[][] = [[]];
    const others: [number, string][] = [];
    this.sides = new Uint8Array(literals.length);
    this.bare = literals.map((literal, id) => {
      let bare = literal;
      if (bare.startsWith(BOUNDARY)) {
        bare = bare.slice(BOUNDARY.length);
        this.sides[id]! |= LEFT;
      }
      if (bare.endsWith(BOUNDARY) && bare.length > BOUNDARY.length) {
        bare = bare.slice(0, -BOUNDARY.length);
        this.sides[id]! |= RIGHT;
      }
      return bare;
    });
    this.bare.forEach((literal, id) => {
      const word = literal.toLowerCase();
      if (word.length === 0 || [...word].some((ch) => ch.charCodeAt(0) >= ASCII)) {
        others.push([id, word]);
        return;
      }
      let state = 0;
      for (let i = 0; i < word.length; i++) {
        const code = fold(word.charCodeAt(i));
        let next = goto[state]!.get(code);
        if (next === undefined) {
          next = goto.length;
          goto.push(new Map());
          ends.push([]);
          goto[state]!.set(code, next);
        }
        state = next;
      }
      ends[state]!.push(id);
    });
    const delta = new Int32Array(goto.length * ASCII);
    const fail = new Int32Array(goto.length);
    const upper = (base: number) => delta.copyWithin(base + 65, base + 97, base + 123);
    // Breadth first, so a state's failure target is complete before the state is; a row starts as a copy of
    // its failure target's and then takes the state's own transitions.
    const queue: number[] = [];
    for (const [code, next] of goto[0]!) {
      delta[code] = next;
      queue.push(next);
    }
    upper(0);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      const back = fail[state]! * ASCII;
      ends[state]!.push(...ends[fail[state]!]!);
      delta.copyWithin(state * ASCII, back, back + ASCII);
      for (const [code, next] of goto[state]!) {
        fail[next] = delta[back + code]!;
        delta[state * ASCII + code] = next;
        queue.push(next);
      }
      upper(state * ASCII);
    }
    this.delta = delta;
    this.outputs = ends;
    this.accepting = Uint8Array.from(ends, (e) => (e.length > 0 ? 1 : 0));
    this.others = others;
    this.cased = this.bare.flatMap((literal, id) => (/[A-Z]/.test(literal) ? [id] : []));
  }

  /** found[i] is 1 when literal i occurs in the text (as written, if it has a capital letter). */
  scan(text: string): Uint8Array {
    const found = new Uint8Array(this.literals.length);
    const { delta, outputs, accepting, sides, bare } = this;
    let state = 0;
    for (let i = 0, n = text.length; i < n; i++) {
      const code = text.charCodeAt(i);
      state = code < ASCII ? delta[(state << 7) | code]! : 0;
      if (accepting[state] === 0) continue;
      const out = outputs[state]!;
      for (let j = 0; j < out.length; j++) {
        const id = out[j]!;
        if (sides[id] === 0 || (found[id] === 0 && bounded(text, i + 1 - bare[id]!.length, i + 1, sides[id]!))) found[id] = 1;
      }
    }
    if (this.others.length > 0) {
      const lower = text.toLowerCase();
      for (const [id, word] of this.others) if (lower.includes(word)) found[id] = 1;
    }
    for (const id of this.cased) if (found[id] === 1 && !text.includes(bare[id]!)) found[id] = 0;
    return found;
  }
}
