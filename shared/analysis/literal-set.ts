/**
 * Which of many literal strings occur in a text, in one pass over it (an Aho–Corasick automaton over the text
 * with ASCII case folded). A literal with a capital letter must occur as written, checked only where it was
 * found folded; one without matches in any case. Checking a few hundred rule anchors with one `includes` each
 * read every file a few hundred times.
 */

const ASCII = 128;

function fold(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

export class LiteralSet {
  /** `state * 128 + char` → next state, over lower-cased ASCII; any other character returns to the root. */
  private readonly delta: Int32Array;
  /** The literals that end at each state, its suffixes' included. */
  private readonly outputs: (readonly number[])[];
  /** Literals with non-ASCII characters, checked with `includes` on the lower-cased text. */
  private readonly others: readonly (readonly [number, string])[];
  /** Literals with a capital letter: found folded, then confirmed as written. */
  private readonly cased: readonly number[];

  constructor(readonly literals: readonly string[]) {
    const goto: Map<number, number>[] = [new Map()];
    const ends: number[][] = [[]];
    const others: [number, string][] = [];
    literals.forEach((literal, id) => {
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
    // Breadth first, so a state's failure target is complete before the state is.
    const queue: number[] = [];
    for (const [code, next] of goto[0]!) {
      delta[code] = next;
      queue.push(next);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      ends[state]!.push(...ends[fail[state]!]!);
      for (let code = 0; code < ASCII; code++) {
        const next = goto[state]!.get(code);
        if (next === undefined) delta[state * ASCII + code] = delta[fail[state]! * ASCII + code]!;
        else {
          fail[next] = delta[fail[state]! * ASCII + code]!;
          delta[state * ASCII + code] = next;
          queue.push(next);
        }
      }
    }
    for (let code = 65; code <= 90; code++) {
      for (let state = 0; state < goto.length; state++) delta[state * ASCII + code] = delta[state * ASCII + code + 32]!;
    }
    this.delta = delta;
    this.outputs = ends;
    this.others = others;
    this.cased = literals.flatMap((literal, id) => (/[A-Z]/.test(literal) ? [id] : []));
  }

  /** found[i] is 1 when literal i occurs in the text (as written, if it has a capital letter). */
  scan(text: string): Uint8Array {
    const found = new Uint8Array(this.literals.length);
    const { delta, outputs } = this;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      state = code < ASCII ? delta[state * ASCII + code]! : 0;
      const out = outputs[state]!;
      for (let j = 0; j < out.length; j++) found[out[j]!] = 1;
    }
    if (this.others.length > 0) {
      const lower = text.toLowerCase();
      for (const [id, word] of this.others) if (lower.includes(word)) found[id] = 1;
    }
    for (const id of this.cased) if (found[id] === 1 && !text.includes(this.literals[id]!)) found[id] = 0;
    return found;
  }
}
