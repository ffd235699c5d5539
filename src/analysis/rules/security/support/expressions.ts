/**
 * A small reader for GitHub Actions expressions: finds `${{ }}` in strings, parses expression text into a tree with
 * offsets, and answers the questions the security rules ask of it (which contexts can flow into the value, which
 * events a condition admits, which literal values it can produce). It never throws: text it cannot parse yields
 * undefined and the callers stay silent.
 */

/** One `${{ ... }}` inside a string. */
export interface EmbeddedExpression {
  /** The whole `${{ ... }}` text. */
  text: string;
  /** The expression between the braces. */
  body: string;
  /** Offset of `${{` in the scanned string. */
  offset: number;
}

/** Every `${{ }}` in `text`, in order; `}}` inside a string literal does not close one. */
export function findExpressions(text: string): EmbeddedExpression[] {
  const found: EmbeddedExpression[] = [];
  let start = text.indexOf('${{');
  while (start >= 0) {
    let inString = false;
    let end = -1;
    for (let at = start + 3; at < text.length; at++) {
      const char = text[at];
      if (inString) {
        if (char === "'") {
          if (text[at + 1] === "'") at++;
          else inString = false;
        }
      } else if (char === "'") {
        inString = true;
      } else if (char === '}' && text[at + 1] === '}') {
        end = at + 2;
        break;
      }
    }
    if (end < 0) break;
    found.push({ text: text.slice(start, end), body: text.slice(start + 3, end - 2), offset: start });
    start = text.indexOf('${{', end);
  }
  return found;
}

export type BinaryOperator = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=';

interface Span {
  /** Offsets of the node in the parsed expression text. */
  start: number;
  end: number;
}

export type ExpressionNode = Span &
  (
    | { kind: 'literal'; value: string | number | boolean | null }
    | { kind: 'context'; name: string }
    | { kind: 'member'; object: ExpressionNode; name: string }
    | { kind: 'index'; object: ExpressionNode; index: ExpressionNode }
    | { kind: 'filter'; object: ExpressionNode }
    | { kind: 'call'; name: string; args: ExpressionNode[] }
    | { kind: 'not'; operand: ExpressionNode }
    | { kind: 'binary'; operator: BinaryOperator; left: ExpressionNode; right: ExpressionNode }
  );

interface Token {
  type: 'number' | 'string' | 'identifier' | 'punctuation' | 'end';
  text: string;
  value?: string | number;
  start: number;
  end: number;
}

const tokenPattern =
  /(0x[0-9a-fA-F]+|-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|('(?:[^']|'')*')|([A-Za-z_][A-Za-z0-9_-]*)|(==|!=|<=|>=|&&|\|\||[()[\].,!<>*])/y;

function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  let at = 0;
  for (;;) {
    while (at < text.length && /\s/.test(text.charAt(at))) at++;
    if (at >= text.length) break;
    tokenPattern.lastIndex = at;
    const match = tokenPattern.exec(text);
    if (!match) return undefined;
    const [whole, number, string, identifier] = match;
    const start = at;
    at += whole.length;
    if (number !== undefined) tokens.push({ type: 'number', text: whole, value: Number(number), start, end: at });
    else if (string !== undefined) tokens.push({ type: 'string', text: whole, value: string.slice(1, -1).replace(/''/g, "'"), start, end: at });
    else if (identifier !== undefined) tokens.push({ type: 'identifier', text: whole, start, end: at });
    else tokens.push({ type: 'punctuation', text: whole, start, end: at });
  }
  tokens.push({ type: 'end', text: '', start: text.length, end: text.length });
  return tokens;
}

const maxDepth = 100;
const binaryLevels: ReadonlyArray<readonly BinaryOperator[]> = [['||'], ['&&'], ['==', '!='], ['<', '<=', '>', '>=']];

class Parser {
  private at = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): ExpressionNode | undefined {
    const node = this.binary(0);
    return node && this.peek().type === 'end' ? node : undefined;
  }

  private peek(): Token {
    return this.tokens[this.at] ?? { type: 'end', text: '', start: 0, end: 0 };
  }

  private take(text?: string): Token | undefined {
    const token = this.peek();
    if (token.type === 'end' || (text !== undefined && (token.type !== 'punctuation' || token.text !== text))) return undefined;
    this.at++;
    return token;
  }

  private binary(level: number): ExpressionNode | undefined {
    const operators = binaryLevels[level];
    if (operators === undefined) return this.unary();
    let left = this.binary(level + 1);
    while (left) {
      const token = this.peek();
      const operator = operators.find((candidate) => token.type === 'punctuation' && token.text === candidate);
      if (operator === undefined) break;
      this.at++;
      const right = this.binary(level + 1);
      if (!right) return undefined;
      left = { kind: 'binary', operator, left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private unary(): ExpressionNode | undefined {
    const bang = this.take('!');
    if (!bang) return this.postfix();
    if (++this.depth > maxDepth) return undefined;
    const operand = this.unary();
    this.depth--;
    return operand && { kind: 'not', operand, start: bang.start, end: operand.end };
  }

  private postfix(): ExpressionNode | undefined {
    let node = this.primary();
    while (node) {
      if (this.take('.')) {
        if (this.take('*')) {
          node = { kind: 'filter', object: node, start: node.start, end: this.tokens[this.at - 1]?.end ?? node.end };
          continue;
        }
        const name = this.peek();
        if (name.type !== 'identifier') return undefined;
        this.at++;
        node = { kind: 'member', object: node, name: name.text, start: node.start, end: name.end };
      } else if (this.take('[')) {
        const star = this.take('*');
        const index = star ? undefined : this.binary(0);
        const close = this.take(']');
        if (!close || (!star && !index)) return undefined;
        if (index?.kind === 'literal' && typeof index.value === 'string') {
          node = { kind: 'member', object: node, name: index.value, start: node.start, end: close.end };
        } else if (index) {
          node = { kind: 'index', object: node, index, start: node.start, end: close.end };
        } else {
          node = { kind: 'filter', object: node, start: node.start, end: close.end };
        }
      } else {
        break;
      }
    }
    return node;
  }

  private primary(): ExpressionNode | undefined {
    const token = this.peek();
    if (++this.depth > maxDepth) return undefined;
    try {
      if (token.type === 'number' || token.type === 'string') {
        this.at++;
        return { kind: 'literal', value: token.value ?? null, start: token.start, end: token.end };
      }
      if (token.type === 'identifier') {
        this.at++;
        const lower = token.text.toLowerCase();
        if (this.take('(')) return this.call(token);
        if (token.text === 'true' || token.text === 'false') {
          return { kind: 'literal', value: token.text === 'true', start: token.start, end: token.end };
        }
        if (token.text === 'null') return { kind: 'literal', value: null, start: token.start, end: token.end };
        if (lower === 'nan' || lower === 'infinity') {
          return { kind: 'literal', value: Number(token.text), start: token.start, end: token.end };
        }
        return { kind: 'context', name: token.text, start: token.start, end: token.end };
      }
      if (this.take('(')) {
        const inner = this.binary(0);
        const close = this.take(')');
        return inner && close ? { ...inner, start: token.start, end: close.end } : undefined;
      }
      return undefined;
    } finally {
      this.depth--;
    }
  }

  private call(name: Token): ExpressionNode | undefined {
    const args: ExpressionNode[] = [];
    let close = this.take(')');
    while (!close) {
      const arg = this.binary(0);
      if (!arg) return undefined;
      args.push(arg);
      close = this.take(')');
      if (!close && !this.take(',')) return undefined;
    }
    return { kind: 'call', name: name.text, args, start: name.start, end: close.end };
  }
}

/** Parses the text of one expression (without `${{ }}`), or undefined when it is not valid. */
export function parseExpression(text: string): ExpressionNode | undefined {
  const tokens = tokenize(text);
  return tokens ? new Parser(tokens).parseAll() : undefined;
}

/**
 * The lower-case context path a property chain names (`github.event.commits[0].message` gives
 * `github,event,commits,*,message`), or undefined when the node is not a context property chain.
 */
export function contextPath(node: ExpressionNode): string[] | undefined {
  switch (node.kind) {
    case 'context':
      return [node.name.toLowerCase()];
    case 'member': {
      const base = contextPath(node.object);
      return base && [...base, node.name.toLowerCase()];
    }
    case 'index':
    case 'filter': {
      const base = contextPath(node.object);
      return base && [...base, '*'];
    }
    default:
      return undefined;
  }
}

/** The structure of an expression as text, without spans and redundant parentheses (equal for equal meaning). */
export function expressionShape(node: ExpressionNode): string {
  switch (node.kind) {
    case 'literal':
      return JSON.stringify(node.value);
    case 'context':
      return node.name.toLowerCase();
    case 'member':
      return `${expressionShape(node.object)}.${node.name.toLowerCase()}`;
    case 'index':
      return `${expressionShape(node.object)}[${expressionShape(node.index)}]`;
    case 'filter':
      return `${expressionShape(node.object)}.*`;
    case 'call':
      return `${node.name.toLowerCase()}(${node.args.map(expressionShape).join(',')})`;
    case 'not':
      return `!(${expressionShape(node.operand)})`;
    case 'binary':
      return `(${expressionShape(node.left)} ${node.operator} ${expressionShape(node.right)})`;
  }
}

/** The context property chains an expression reads, each whole (`secrets.TOKEN`, not also `secrets`). */
export function contextPaths(node: ExpressionNode): string[][] {
  const path = contextPath(node);
  if (path) return [path, ...(node.kind === 'index' ? contextPaths(node.index) : [])];
  switch (node.kind) {
    case 'binary':
      return [...contextPaths(node.left), ...contextPaths(node.right)];
    case 'call':
      return node.args.flatMap(contextPaths);
    case 'not':
      return contextPaths(node.operand);
    case 'member':
    case 'filter':
      return contextPaths(node.object);
    case 'index':
      return [...contextPaths(node.object), ...contextPaths(node.index)];
    default:
      return [];
  }
}

/** True when the node is the context property chain `path` (dotted, lower-case, `*` for indexes). */
export function isContext(node: ExpressionNode, path: string): boolean {
  return contextPath(node)?.join('.') === path;
}

/** A context whose data reaches an expression's value, as the classifier described it. */
export interface ContextFlow<Origin> {
  node: ExpressionNode;
  path: string[];
  origin: Origin;
  /** True when an object holding the data reaches the value serialized by toJSON() (JSON escapes some of it). */
  serialized: boolean;
}

/**
 * Says what a context path holds: `value` data, a `container` (object or array) holding such data, or nothing.
 * Containers only reach a rendered string through toJSON(): `${{ }}` renders other objects as `Object`/`Array`.
 */
export type ContextClassifier<Origin> = (path: string[]) => { kind: 'value' | 'container'; origin: Origin } | undefined;

/** Functions whose result never carries their arguments' text. */
const opaqueFunctions = new Set(['contains', 'startswith', 'endswith', 'success', 'failure', 'always', 'cancelled', 'hashfiles']);

/**
 * The contexts whose text can end up in the rendered value of an expression: comparisons, `!` and contains()-like
 * tests yield booleans, `a && b` yields `b` or a falsy (empty) `a`, `a || b` may yield either side. Objects and
 * arrays render as `Object`/`Array`, so they only carry text through toJSON() (objects and arrays) or join()
 * (arrays, such as `github.event.commits.*.message`); format() renders them as `Object`/`Array` too.
 */
export function contextsReachingValue<Origin>(node: ExpressionNode, classify: ContextClassifier<Origin>): Array<ContextFlow<Origin>> {
  return reaching(node, classify).flatMap(({ shape, ...flow }) => (shape === 'text' ? [flow] : []));
}

interface Reach<Origin> extends ContextFlow<Origin> {
  /** What the value is at this point: text, an array of texts (object filter), or an object holding texts. */
  shape: 'text' | 'array' | 'object';
}

function hasFilter(node: ExpressionNode): boolean {
  if (node.kind === 'filter') return true;
  return node.kind === 'member' || node.kind === 'index' ? hasFilter(node.object) : false;
}

function reaching<Origin>(node: ExpressionNode, classify: ContextClassifier<Origin>): Array<Reach<Origin>> {
  const path = contextPath(node);
  if (path) {
    const found = classify(path);
    if (!found) return [];
    const shape = found.kind === 'container' ? 'object' : hasFilter(node) ? 'array' : 'text';
    return [{ node, path, origin: found.origin, shape, serialized: false }];
  }
  switch (node.kind) {
    case 'literal':
    case 'not':
    case 'context':
      return [];
    case 'binary':
      if (node.operator === '&&') return reaching(node.right, classify);
      if (node.operator === '||') return [...reaching(node.left, classify), ...reaching(node.right, classify)];
      return [];
    case 'member':
    case 'index':
    case 'filter':
      // A property of a computed value (fromJSON(x).title) can carry whatever x carried.
      return reaching(node.object, classify).map((flow) => ({ ...flow, shape: 'text' }));
    case 'call': {
      const name = node.name.toLowerCase();
      if (opaqueFunctions.has(name)) return [];
      const flows = node.args.flatMap((arg) => reaching(arg, classify));
      if (name === 'tojson') return flows.map((flow) => ({ ...flow, shape: 'text', serialized: flow.serialized || flow.shape !== 'text' }));
      if (name === 'join') return flows.flatMap((flow) => (flow.shape === 'object' ? [] : [{ ...flow, shape: 'text' as const }]));
      if (name === 'format') return flows.filter((flow) => flow.shape === 'text');
      return flows;
    }
  }
}

/** The operands joined by `&&` at the top of a condition (the condition itself when it is no conjunction). */
export function conjuncts(node: ExpressionNode): ExpressionNode[] {
  return node.kind === 'binary' && node.operator === '&&' ? [...conjuncts(node.left), ...conjuncts(node.right)] : [node];
}

function literalString(node: ExpressionNode): string | undefined {
  return node.kind === 'literal' && typeof node.value === 'string' ? node.value : undefined;
}

/**
 * The subset of `events` a condition can be true for, judged from `github.event_name == '...'` tests combined with
 * `&&` and `||`; anything else admits every event.
 */
export function admittedEvents(node: ExpressionNode, events: ReadonlySet<string>): Set<string> {
  if (node.kind === 'binary') {
    if (node.operator === '&&') {
      const right = admittedEvents(node.right, events);
      return new Set([...admittedEvents(node.left, events)].filter((event) => right.has(event)));
    }
    if (node.operator === '||') return new Set([...admittedEvents(node.left, events), ...admittedEvents(node.right, events)]);
    if (node.operator === '==' || node.operator === '!=') {
      const [context, literal] = isContext(node.left, 'github.event_name') ? [node.left, node.right] : [node.right, node.left];
      const name = literalString(literal);
      if (isContext(context, 'github.event_name') && name !== undefined) {
        const lower = name.toLowerCase();
        return new Set([...events].filter((event) => (event === lower) === (node.operator === '==')));
      }
    }
  }
  return new Set(events);
}

/** Outcome of evaluating an expression for its possible literal values. */
export interface PossibleValues {
  values: unknown[];
  /** False when some outcome depends on a context or function the evaluator could not resolve. */
  complete: boolean;
}

/**
 * The literal values an expression can produce (for `runs-on: ${{ cond && 'a' || 'b' }}` or `${{ matrix.os }}`):
 * `resolve` gives the values of a context path, or undefined when unknown.
 */
export function possibleValues(node: ExpressionNode, resolve: (path: string[]) => unknown[] | undefined): PossibleValues {
  const path = contextPath(node);
  if (path) {
    const values = resolve(path);
    return values ? { values, complete: true } : { values: [], complete: false };
  }
  switch (node.kind) {
    case 'literal':
      return { values: [node.value], complete: true };
    case 'not':
      return { values: [true, false], complete: true };
    case 'binary': {
      if (node.operator !== '&&' && node.operator !== '||') return { values: [true, false], complete: true };
      const left = possibleValues(node.left, resolve);
      const right = possibleValues(node.right, resolve);
      const leftKept = node.operator === '&&' ? left.values.filter((value) => !value) : left.values.filter(Boolean);
      return { values: [...leftKept, ...right.values], complete: left.complete && right.complete };
    }
    case 'call': {
      const argument = node.args[0];
      if (node.name.toLowerCase() === 'fromjson' && argument) {
        const texts = possibleValues(argument, resolve);
        const parsed = texts.values.flatMap((text) => (typeof text === 'string' ? parseJson(text) : []));
        return { values: parsed, complete: texts.complete && parsed.length === texts.values.length };
      }
      return { values: [], complete: false };
    }
    default:
      return { values: [], complete: false };
  }
}

function parseJson(text: string): unknown[] {
  try {
    return [JSON.parse(text) as unknown];
  } catch {
    return [];
  }
}

/**
 * A condition (`if:`) as GitHub reads it: plain expression text, or one `${{ }}` that is the whole value.
 * Undefined when the value is a template (any text, even a newline, around or between `${{ }}`: always true) or
 * does not parse.
 */
export function parseCondition(text: string): { node: ExpressionNode; body: string; bodyOffset: number } | undefined {
  const embedded = findExpressions(text);
  if (embedded.length === 0) {
    const node = parseExpression(text);
    return node && { node, body: text, bodyOffset: 0 };
  }
  const only = embedded[0];
  if (embedded.length !== 1 || only === undefined || only.text !== text) return undefined;
  const node = parseExpression(only.body);
  return node && { node, body: only.body, bodyOffset: only.offset + 3 };
}
