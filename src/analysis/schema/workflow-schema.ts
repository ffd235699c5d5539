/**
 * Validates a parsed workflow file against GitHub's own workflow schema: the template schema
 * `workflow-v1.0.json` that GitHub's language service (the VS Code extension) validates with, shipped inside
 * @actions/workflow-parser (pinned 0.3.61).
 *
 * Why we walk the schema ourselves instead of calling the package: it is ESM-only and its dist imports the schema
 * JSON without import attributes. Under Node 20 `require(esm)` fails on that import
 * (ERR_IMPORT_ASSERTION_TYPE_MISSING) and ignores module.register() loader hooks; `import()` plus a hook works in
 * plain Node, but TypeScript's CommonJS output rewrites `import()` into `require()`, and jest on Node < 24.9 runs
 * neither require(esm) nor `import()` (without --experimental-vm-modules). A bundling step is off the table. The
 * schema itself is plain data, so we read it synchronously (no preloading hook needed) and apply the same reading
 * rules as the package's template reader to our positioned `yaml` nodes. Compared on the 826-file corpus and on
 * mutated copies of it, this reports the same structural errors as the package, minus the deliberate differences:
 * - `${{ }}` syntax is not parsed here (expression errors belong to an expression rule); a scalar containing
 *   a closed `${{ … }}` counts as an expression, one with an unclosed `${{` as a plain string.
 * - background steps (`background`, `wait`, `wait-all`, `cancel`) are accepted: GitHub runs them (electron/electron
 *   uses them) while the package hides them behind a feature flag.
 * - configuration under events that take none (`on: create: tags: …`) is ignored, as GitHub does
 *   (helm/helm's release workflow has run that way for years).
 */
import { readFileSync, existsSync } from 'fs';
import { join } from 'path';
import { isAlias, isMap, isNode, isScalar, isSeq, type Document, type Node, type Pair, type Scalar } from 'yaml';
import { z } from 'zod';
import { scalarText, type WorkflowFile } from '../rule';
import { closestMatch } from './edit-distance';

const SCHEMA_FILE = join('@actions', 'workflow-parser', 'dist', 'workflow-v1.0.min.json');
/** The strict root definition: it also checks event names and event configuration. */
const WORKFLOW_ROOT = 'workflow-root-strict';
/** The definition of the `on:` mapping whose values may carry configuration GitHub ignores. */
const EVENT_MAPPING = 'on-mapping-strict';
const ANY = 'any';

const propertyJson = z.union([
  z.string(),
  z.object({ type: z.string(), required: z.boolean().optional() }),
]);
const definitionJson = z.object({
  context: z.array(z.string()).optional(),
  null: z.object({}).optional(),
  boolean: z.object({}).optional(),
  number: z.object({}).optional(),
  string: z
    .object({
      constant: z.string().optional(),
      'ignore-case': z.boolean().optional(),
      'require-non-empty': z.boolean().optional(),
    })
    .optional(),
  sequence: z.object({ 'item-type': z.string() }).optional(),
  mapping: z
    .object({
      properties: z.record(z.string(), propertyJson).optional(),
      'loose-key-type': z.string().optional(),
      'loose-value-type': z.string().optional(),
    })
    .optional(),
  'one-of': z.array(z.string()).optional(),
  'allowed-values': z.array(z.string()).optional(),
});
const schemaJson = z.object({ definitions: z.record(z.string(), definitionJson) });

interface PropertyDefinition {
  type: string;
  required: boolean;
}

type Definition = { name: string; context: readonly string[] } & (
  | { kind: 'null' | 'boolean' | 'number' }
  | { kind: 'string'; constant: string | undefined; ignoreCase: boolean; requireNonEmpty: boolean }
  | { kind: 'sequence'; itemType: string }
  | { kind: 'mapping'; properties: ReadonlyMap<string, PropertyDefinition>; looseKeyType?: string; looseValueType?: string }
  | { kind: 'one-of'; oneOf: readonly string[] }
);
type MappingDefinition = Extract<Definition, { kind: 'mapping' }>;
type ScalarDefinition = Extract<Definition, { kind: 'null' | 'boolean' | 'number' | 'string' }>;

/** A definition as met at one place in the file, with the expression contexts allowed there (inherited). */
interface DefinitionInfo {
  definition: Definition;
  allowedContext: readonly string[];
}

type Definitions = ReadonlyMap<string, Definition>;

function builtinDefinitions(): Map<string, Definition> {
  const none: readonly string[] = [];
  const builtins: Definition[] = [
    { name: 'null', context: none, kind: 'null' },
    { name: 'boolean', context: none, kind: 'boolean' },
    { name: 'number', context: none, kind: 'number' },
    { name: 'string', context: none, kind: 'string', constant: undefined, ignoreCase: false, requireNonEmpty: false },
    { name: 'sequence', context: none, kind: 'sequence', itemType: ANY },
    { name: 'mapping', context: none, kind: 'mapping', properties: new Map(), looseKeyType: 'string', looseValueType: ANY },
    { name: ANY, context: none, kind: 'one-of', oneOf: ['null', 'boolean', 'number', 'string', 'sequence', 'mapping'] },
  ];
  return new Map(builtins.map((definition) => [definition.name, definition]));
}

function compileDefinitions(json: unknown): Definitions {
  const definitions = builtinDefinitions();
  for (const [name, raw] of Object.entries(schemaJson.parse(json).definitions)) {
    const context = raw.context ?? [];
    if (raw['allowed-values']) {
      // As in the package: each allowed value becomes a constant string definition referenced by a one-of.
      const oneOf = raw['allowed-values'].map((value) => `${name}-${value}`);
      raw['allowed-values'].forEach((value, index) => {
        const valueName = oneOf[index] ?? value;
        definitions.set(valueName, { name: valueName, context: [], kind: 'string', constant: value, ignoreCase: false, requireNonEmpty: false });
      });
      definitions.set(name, { name, context, kind: 'one-of', oneOf });
    } else if (raw['one-of']) {
      definitions.set(name, { name, context, kind: 'one-of', oneOf: raw['one-of'] });
    } else if (raw.mapping) {
      const properties = new Map<string, PropertyDefinition>();
      for (const [key, property] of Object.entries(raw.mapping.properties ?? {})) {
        properties.set(key, typeof property === 'string' ? { type: property, required: false } : { type: property.type, required: property.required ?? false });
      }
      definitions.set(name, {
        name,
        context,
        kind: 'mapping',
        properties,
        ...(raw.mapping['loose-key-type'] ? { looseKeyType: raw.mapping['loose-key-type'] } : {}),
        ...(raw.mapping['loose-value-type'] ? { looseValueType: raw.mapping['loose-value-type'] } : {}),
      });
    } else if (raw.sequence) {
      definitions.set(name, { name, context, kind: 'sequence', itemType: raw.sequence['item-type'] });
    } else if (raw.string) {
      definitions.set(name, {
        name,
        context,
        kind: 'string',
        constant: raw.string.constant,
        ignoreCase: raw.string['ignore-case'] ?? false,
        requireNonEmpty: raw.string['require-non-empty'] ?? false,
      });
    } else if (raw.number) {
      definitions.set(name, { name, context, kind: 'number' });
    } else if (raw.boolean) {
      definitions.set(name, { name, context, kind: 'boolean' });
    } else if (raw.null) {
      definitions.set(name, { name, context, kind: 'null' });
    } else {
      throw new Error(`workflow schema definition '${name}' has no type`);
    }
  }
  return definitions;
}

/** Finds the schema file the way Node resolves packages (the package's `exports` hide it from require.resolve). */
function schemaPath(): string {
  for (const directory of require.resolve.paths('@actions/workflow-parser') ?? []) {
    const candidate = join(directory, SCHEMA_FILE);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`cannot find ${SCHEMA_FILE}; is @actions/workflow-parser installed?`);
}

let loadedDefinitions: Definitions | undefined;

function workflowDefinitions(): Definitions {
  loadedDefinitions ??= compileDefinitions(JSON.parse(readFileSync(schemaPath(), 'utf8')));
  return loadedDefinitions;
}

/** One place where the file breaks the schema. `node` is the most precise node to point at. */
export interface SchemaViolation {
  node: Node;
  message: string;
}

type PathSegment = string | number;

/** "`jobs.build.steps[0]`", or "the workflow file" for the root. */
function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return 'the workflow file';
  return `\`${path.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('')}\``;
}

/** What a scalar is after YAML typing and `${{ }}` detection, as the template reader classifies it. */
type Literal = { type: 'null' | 'boolean' | 'number' | 'string'; text: string } | { type: 'expression'; text: string };

const OPEN_EXPRESSION = '${{';

/** The string inside an expression made only of single-quoted literals (`${{ '{{ x }}' }}`), else undefined. */
function literalStringExpression(expression: string): string | undefined {
  let inString = false;
  let result = '';
  for (let i = 0; i < expression.length; i++) {
    const c = expression.charAt(i);
    if (c === "'") {
      inString = !inString;
      if (inString && i !== 0) result += c;
    } else if (!inString) {
      return undefined;
    } else {
      result += c;
    }
  }
  return result;
}

function classifyString(text: string): Literal {
  const firstOpen = text.indexOf(OPEN_EXPRESSION);
  if (firstOpen < 0) return { type: 'string', text };
  const expressions: string[] = [];
  let literalText = firstOpen > 0;
  for (let start = firstOpen; start >= 0; ) {
    let end = -1;
    let inString = false;
    let i = start + OPEN_EXPRESSION.length;
    for (; i < text.length; i++) {
      if (text[i] === "'") inString = !inString;
      else if (!inString && text[i] === '}' && text[i - 1] === '}') {
        end = i;
        break;
      }
    }
    // An unclosed `${{` is an expression error, reported by the expression rule, not a schema violation.
    if (end < 0) return { type: 'string', text };
    expressions.push(text.slice(start + OPEN_EXPRESSION.length, end - 1).trim());
    start = text.indexOf(OPEN_EXPRESSION, end + 1);
    if (start > end + 1 || (start < 0 && end + 1 < text.length)) literalText = true;
  }
  const only = expressions.length === 1 && !literalText ? expressions[0] : undefined;
  const literal = only === undefined ? undefined : literalStringExpression(only);
  return literal === undefined ? { type: 'expression', text } : { type: 'string', text: literal };
}

function classifyScalar(node: Scalar | null): Literal {
  const value: unknown = node?.value;
  if (value === null || value === undefined) return { type: 'null', text: '' };
  if (typeof value === 'boolean') return { type: 'boolean', text: value ? 'true' : 'false' };
  if (typeof value === 'number' || typeof value === 'bigint') return { type: 'number', text: String(value) };
  return classifyString(typeof value === 'string' ? value : (scalarText(node) ?? ''));
}

class SchemaReader {
  readonly violations: SchemaViolation[] = [];
  /** Anchored nodes already read as a given definition: aliases of them would repeat the same findings. */
  private readonly readAnchors = new Set<string>();

  constructor(
    private readonly definitions: Definitions,
    private readonly doc: Document.Parsed,
  ) {}

  info(parent: DefinitionInfo | undefined, name: string): DefinitionInfo {
    const definition = this.definitions.get(name);
    if (!definition) throw new Error(`workflow schema definition '${name}' not found`);
    if (definition.context.length === 0) return { definition, allowedContext: parent?.allowedContext ?? [] };
    const allowed = [...(parent?.allowedContext ?? [])];
    const upper = new Set(allowed.map((context) => context.toUpperCase()));
    for (const context of definition.context) {
      if (!upper.has(context.toUpperCase())) {
        allowed.push(context);
        upper.add(context.toUpperCase());
      }
    }
    return { definition, allowedContext: allowed };
  }

  private report(node: Node, message: string): void {
    this.violations.push({ node, message });
  }

  private scalarDefinitions(definition: Definition): ScalarDefinition[] {
    if (definition.kind !== 'one-of') return definition.kind === 'sequence' || definition.kind === 'mapping' ? [] : [definition];
    return definition.oneOf.flatMap((name) => {
      const nested = this.definitions.get(name);
      return nested ? this.scalarDefinitions(nested) : [];
    });
  }

  private definitionsOfKind<K extends Definition['kind']>(definition: Definition, kind: K): Array<Extract<Definition, { kind: K }>> {
    const isKind = (candidate: Definition): candidate is Extract<Definition, { kind: K }> => candidate.kind === kind;
    if (isKind(definition)) return [definition];
    if (definition.kind !== 'one-of') return [];
    return definition.oneOf.flatMap((name) => {
      const nested = this.definitions.get(name);
      return nested && isKind(nested) ? [nested] : [];
    });
  }

  /** "a string, a list or an expression": what the schema accepts at a place, for messages. */
  private describeExpected(info: DefinitionInfo): string {
    const kinds: string[] = [];
    const constants: string[] = [];
    for (const definition of this.scalarDefinitions(info.definition)) {
      if (definition.kind === 'string' && definition.constant !== undefined) constants.push(`\`${definition.constant}\``);
      else if (definition.kind === 'string') kinds.push(definition.requireNonEmpty ? 'a non-empty string' : 'a string');
      else if (definition.kind === 'boolean') kinds.push('`true` or `false`');
      else if (definition.kind === 'number') kinds.push('a number');
      else kinds.push('an empty value');
    }
    if (constants.length > 0) kinds.unshift(constants.length === 1 ? (constants[0] ?? '') : `one of ${constants.join(', ')}`);
    if (this.definitionsOfKind(info.definition, 'sequence').length > 0) kinds.push('a list');
    if (this.definitionsOfKind(info.definition, 'mapping').length > 0) kinds.push('a mapping');
    if (info.allowedContext.length > 0) kinds.push('an expression');
    const unique = [...new Set(kinds)];
    return unique.length <= 1 ? (unique[0] ?? 'nothing') : `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1] ?? ''}`;
  }

  private resolve(node: unknown, aliases: ReadonlySet<Node>): { node: unknown; aliases: ReadonlySet<Node> } | undefined {
    if (!isAlias(node)) return { node, aliases };
    const target = node.resolve(this.doc);
    if (!target || aliases.has(target)) return undefined;
    return { node: target, aliases: new Set([...aliases, target]) };
  }

  /**
   * Reads one value. `at` is where collection-level problems point (the key owning the value): a whole mapping
   * or list spans many lines, its key names it.
   */
  readValue(raw: unknown, info: DefinitionInfo, path: PathSegment[], at: Node, aliases: ReadonlySet<Node>, parent?: Definition): void {
    const resolved = this.resolve(raw, aliases);
    if (!resolved) return;
    const { node } = resolved;
    if (isNode(node) && node.anchor) {
      const key = `${node.range?.[0] ?? -1}:${info.definition.name}`;
      if (this.readAnchors.has(key)) return;
      this.readAnchors.add(key);
    }
    if (isMap(node)) {
      this.readMapping(node.items, info, path, at, resolved.aliases, parent);
    } else if (isSeq(node)) {
      const sequence = this.definitionsOfKind(info.definition, 'sequence')[0];
      if (!sequence) {
        if (!this.ignoredEventConfig(info, parent)) {
          this.report(at, `${capitalize(formatPath(path))} must not be a list; expected ${this.describeExpected(info)}.`);
        }
        return;
      }
      const itemInfo = this.info(info, sequence.itemType);
      node.items.forEach((item, index) => {
        const itemAt = isScalar(item) || isAlias(item) ? item : (firstKey(item) ?? at);
        this.readValue(item, itemInfo, [...path, index], itemAt, resolved.aliases);
      });
    } else {
      const scalar = isScalar(node) ? node : null;
      this.validateScalar(classifyScalar(scalar), info, path, scalar ?? at);
    }
  }

  /** GitHub ignores configuration under events that take none, e.g. `on: create: tags: [v*]`. */
  private ignoredEventConfig(info: DefinitionInfo, parent: Definition | undefined): boolean {
    return parent?.name === EVENT_MAPPING && this.definitionsOfKind(info.definition, 'mapping').length === 0;
  }

  private validateScalar(literal: Literal, info: DefinitionInfo, path: PathSegment[], node: Node): boolean {
    if (literal.type === 'expression') {
      if (info.allowedContext.length > 0) return true;
      this.report(node, `${capitalize(formatPath(path))} cannot contain an expression (\`\${{ }}\`); it only accepts ${this.describeExpected(info)}.`);
      return false;
    }
    const candidates = this.scalarDefinitions(info.definition);
    if (candidates.some((definition) => scalarMatches(definition, literal))) return true;
    const asString: Literal = { type: 'string', text: literal.text };
    if (literal.type !== 'string' && candidates.some((definition) => scalarMatches(definition, asString))) return true;
    this.report(node, `Unexpected value \`${literal.text}\` for ${formatPath(path)}; expected ${this.describeExpected(info)}.`);
    return false;
  }

  private readMapping(pairs: readonly Pair[], info: DefinitionInfo, path: PathSegment[], at: Node, aliases: ReadonlySet<Node>, parent: Definition | undefined): void {
    const mappings = this.definitionsOfKind(info.definition, 'mapping');
    const first = mappings[0];
    if (!first) {
      if (!this.ignoredEventConfig(info, parent)) {
        this.report(at, `${capitalize(formatPath(path))} must not be a mapping; expected ${this.describeExpected(info)}.`);
      }
      return;
    }
    const allLoose = mappings.length === 1 && first.properties.size === 0 && first.looseKeyType !== undefined;
    let candidates: MappingDefinition[] = mappings;
    const seenKeys = new Set<string>();
    let hasExpressionKey = false;
    let hasUnknownKey = false;
    const looseKey = first.looseKeyType === undefined ? undefined : this.info(info, first.looseKeyType);
    const looseValue = first.looseValueType === undefined ? undefined : this.info(info, first.looseValueType);
    for (const pair of pairs) {
      const key = this.resolve(pair.key, aliases)?.node;
      if (!isScalar(key)) continue;
      const keyLiteral = classifyScalar(key);
      if (keyLiteral.type === 'expression') {
        hasExpressionKey = true;
        if (info.allowedContext.length > 0) {
          this.readValue(pair.value, allLoose && looseValue ? looseValue : this.info(info, ANY), [...path, keyLiteral.text], key, aliases);
        } else {
          this.report(key, `${capitalize(formatPath(path))} cannot have an expression (\`\${{ }}\`) as a key.`);
        }
        continue;
      }
      const name = keyLiteral.text;
      const childPath = [...path, name];
      if (name !== '') {
        if (seenKeys.has(name.toUpperCase())) {
          this.report(key, `Key \`${name}\` is defined twice in ${formatPath(path)} (GitHub compares keys case-insensitively).`);
          continue;
        }
        seenKeys.add(name.toUpperCase());
      }
      const property = allLoose ? undefined : candidates.find((definition) => definition.properties.has(name))?.properties.get(name);
      if (property) {
        candidates = candidates.filter((definition) => definition.properties.has(name));
        this.readValue(pair.value, this.info(info, property.type), childPath, key, aliases, candidates[0]);
      } else if (looseKey && looseValue) {
        this.validateScalar({ type: 'string', text: name }, looseKey, childPath, key);
        this.readValue(pair.value, looseValue, childPath, key, aliases, first);
      } else {
        this.report(key, unknownKeyMessage(name, path, candidates));
        hasUnknownKey = true;
      }
    }
    // A misspelled key usually is the missing one (`run-on`): one finding is enough.
    if (allLoose || hasUnknownKey) return;
    if (candidates.length > 1) {
      const counts = new Map<string, number>();
      for (const definition of candidates) for (const key of definition.properties.keys()) counts.set(key, (counts.get(key) ?? 0) + 1);
      // Name the keys that pick a variant: the required ones (`run`, `uses`, ...), else those only one variant has.
      const required = candidates.flatMap((definition) => [...definition.properties].filter(([, property]) => property.required).map(([key]) => key));
      const distinguishing = required.length > 0 ? required : [...counts].filter(([, count]) => count === 1).map(([key]) => key);
      const keys = [...new Set(distinguishing)].sort().map((key) => `\`${key}\``);
      this.report(at, `${capitalize(formatPath(path))} must contain one of the keys ${keys.join(', ')}.`);
    } else if (candidates.length === 1 && !hasExpressionKey) {
      for (const [name, property] of candidates[0]?.properties ?? []) {
        if (property.required && !seenKeys.has(name.toUpperCase())) {
          this.report(at, path.length === 0 ? `The workflow file is missing the required top-level key \`${name}\`.` : `${capitalize(formatPath(path))} is missing the required key \`${name}\`.`);
        }
      }
    }
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function scalarMatches(definition: ScalarDefinition, literal: Literal): boolean {
  if (definition.kind !== 'string') return definition.kind === literal.type;
  if (literal.type !== 'string') return false;
  if (definition.constant !== undefined) {
    return definition.ignoreCase ? definition.constant.toUpperCase() === literal.text.toUpperCase() : definition.constant === literal.text;
  }
  return definition.requireNonEmpty ? literal.text !== '' : true;
}

function firstKey(node: unknown): Node | undefined {
  if (!isMap(node)) return undefined;
  const key: unknown = node.items[0]?.key;
  return isScalar(key) ? key : undefined;
}

function unknownKeyMessage(name: string, path: readonly PathSegment[], candidates: readonly MappingDefinition[]): string {
  const where = path.length === 0 ? 'at the top level of the workflow file' : `in ${formatPath(path)}`;
  const known = [...new Set(candidates.flatMap((definition) => [...definition.properties.keys()]))].sort();
  const suggestion = closestMatch(name, known, Math.min(2, Math.floor(name.length / 3)));
  if (suggestion) return `Unexpected key \`${name}\` ${where}; did you mean \`${suggestion}\`?`;
  const expected = known.length > 0 && known.length <= 20 ? `; expected one of ${known.map((key) => `\`${key}\``).join(', ')}` : '';
  return `Unexpected key \`${name}\` ${where}${expected}.`;
}

/** Every place the workflow file breaks GitHub's workflow schema, in document order. Never throws on odd shapes. */
export function validateWorkflowSchema(file: WorkflowFile): SchemaViolation[] {
  const reader = new SchemaReader(workflowDefinitions(), file.doc);
  const root = file.doc.contents;
  if (root === null) return [];
  const rootAt = firstKey(root) ?? root;
  reader.readValue(root, reader.info(undefined, WORKFLOW_ROOT), [], rootAt, new Set());
  return reader.violations;
}
