/**
 * Target labels and the selectors agent policies pick targets with. Labels follow Kubernetes: a key is an
 * optional DNS-subdomain prefix and `/`, then a name of at most 63 letters, digits, `-`, `_` and `.` starting and
 * ending alphanumeric; a value is empty or such a name. A selector is `all`, or a name glob and/or labels that
 * must all match (Kubernetes' matchLabels).
 */
import picomatch from 'picomatch';
import { z } from 'zod';
import type { Target } from '../domain/types';
import '../util/validation-messages';

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_LABELS = 64;
const MAX_GLOB_CHARS = 200;

/** Why `key` is not a label key, or undefined when it is one. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !DNS_SUBDOMAIN.test(prefix)) return `the label key ${JSON.stringify(key)} has a prefix that is not a DNS subdomain (lowercase letters, digits, "-" and ".")`;
  if (!LABEL_NAME.test(name)) {
    return `the label key ${JSON.stringify(key)} must be at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (an optional prefix/ before it)`;
  }
  return undefined;
}

const labelValueSchema = z
  .string()
  .refine((value) => value === '' || LABEL_NAME.test(value), {
    message: 'must be empty or at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
  });

export const labelsSchema = z
  .record(z.string(), labelValueSchema)
  .superRefine((labels, context) => {
    const keys = Object.keys(labels);
    if (keys.length > MAX_LABELS) context.addIssue({ code: 'custom', message: `may hold at most ${MAX_LABELS} labels` });
    for (const key of keys) {
      const problem = labelKeyProblem(key);
      if (problem) context.addIssue({ code: 'custom', message: problem, path: [key] });
    }
  });

export type Labels = z.infer<typeof labelsSchema>;

export const targetSelectorSchema = z.union(
  [
    z.literal('all'),
    z
      .object({
        nameGlob: z
          .string()
          .min(1)
          .max(MAX_GLOB_CHARS)
          .regex(/^[A-Za-z0-9_.\-/*?[\]{},!]+$/, 'must be a glob over target names (letters, digits, "_", ".", "-", "/" and the glob characters * ? [ ] { } , !)')
          .optional(),
        labels: labelsSchema.optional(),
      })
      .strict()
      .refine((selector) => selector.nameGlob !== undefined || selector.labels !== undefined, {
        message: 'must name a nameGlob, labels or both (or be "all")',
      }),
  ],
  { error: 'must be "all" or an object with nameGlob and/or labels' },
);

export type TargetSelector = z.infer<typeof targetSelectorSchema>;

/** The targets a selector picks, in the order given. */
export function selectTargets<T extends Pick<Target, 'name' | 'labels'>>(targets: readonly T[], selector: TargetSelector): T[] {
  if (selector === 'all') return [...targets];
  const nameMatches = selector.nameGlob === undefined ? () => true : picomatch(selector.nameGlob);
  const wanted = Object.entries(selector.labels ?? {});
  return targets.filter((target) => nameMatches(target.name) && wanted.every(([key, value]) => target.labels?.[key] === value));
}
