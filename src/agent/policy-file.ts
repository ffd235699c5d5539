/**
 * Agent policies kept in git: AGENT_POLICY_FILE names a YAML file with one policy, a list of them, or
 * `policies: [...]` (several `---` documents work too), each validated with the API's policy schema. A bad file
 * is refused as a whole with a sentence naming the file, the line and the field, before anything is stored.
 */
import { promises as fs } from 'node:fs';
import { isMap, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import { type PolicySpec, policySpecSchema } from './policy';

export class PolicyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyFileError';
  }
}

interface PolicyEntry {
  /** Where the policy is in the file, as a dotted path prefix (`policies.1`), or '' for a document of its own. */
  prefix: string;
  node: Node;
}

function entriesOf(root: Node | null, documentPrefix: string): PolicyEntry[] {
  const join = (prefix: string, key: string | number): string => (prefix === '' ? String(key) : `${prefix}.${key}`);
  if (isSeq(root)) return root.items.map((item, index) => ({ prefix: join(documentPrefix, index), node: item as Node }));
  if (isMap(root) && root.has('policies')) {
    const list = root.get('policies', true);
    if (!isSeq(list)) throw new PolicyFileError(`${join(documentPrefix, 'policies')} must be a list of policies`);
    return list.items.map((item, index) => ({ prefix: join(documentPrefix, `policies.${index}`), node: item as Node }));
  }
  return root ? [{ prefix: documentPrefix, node: root }] : [];
}

/** The node at a zod issue's path below `node`, for its line; the nearest existing ancestor when the field is missing. */
function nodeAt(node: Node, path: readonly PropertyKey[]): Node {
  let current = node;
  for (const key of path) {
    const next: unknown = isMap(current) || isSeq(current) ? current.get(typeof key === 'number' ? key : String(key), true) : undefined;
    if (next === undefined || next === null || typeof next !== 'object') break;
    current = next as Node;
  }
  return current;
}

/** Reads and validates the policies of `file`; throws PolicyFileError naming the line and field of the first problem. */
export async function readPolicyFile(file: string): Promise<PolicySpec[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new PolicyFileError(`${file} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const list = Array.isArray(documents) ? documents : [];
  const lineOf = (offset: number | undefined): number => lines.linePos(offset ?? 0).line;
  const specs: PolicySpec[] = [];
  for (const [index, document] of list.entries()) {
    const [syntax] = document.errors;
    if (syntax) throw new PolicyFileError(`${file} line ${lineOf(syntax.pos[0])}: not valid YAML: ${syntax.message.split('\n')[0] ?? ''}`);
    const entries = entriesOf(document.contents, list.length > 1 ? `document ${index + 1}` : '');
    for (const entry of entries) {
      const parsed = policySpecSchema.safeParse(entry.node.toJSON());
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = [entry.prefix, ...(issue?.path ?? []).map(String)].filter((part) => part !== '').join('.');
        const line = lineOf(nodeAt(entry.node, issue?.path ?? []).range?.[0]);
        throw new PolicyFileError(`${file} line ${line}: ${path === '' ? 'the policy' : path}: ${issue?.message ?? 'is not a valid policy'}`);
      }
      specs.push(parsed.data);
    }
  }
  if (specs.length === 0) throw new PolicyFileError(`${file} holds no policy`);
  const names = specs.map((spec) => spec.name);
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) throw new PolicyFileError(`${file}: the policy name ${twice} is used twice; names identify policies`);
  return specs;
}
