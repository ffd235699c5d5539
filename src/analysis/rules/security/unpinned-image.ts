import { isScalar, type Node } from 'yaml';
import { isUnfixable, replaceScalar } from '../../edit/yaml-edits';
import { knownImageDigest } from '../../knowledge/image-digests';
import { type FixPlan, jobsOf, mapGet, rootMap, type Rule, type RuleContext, scalarText, stepsOf } from '../../rule';
import { containersOf, hasExpression, usesOf } from '../../security-sites';

export const unpinnedImageRule: Rule = {
  id: 'unpinned-image',
  category: 'security',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description: 'Container images (job containers, service containers, `docker://` actions) without a tag or digest pin.',
  rationale:
    'An image without a tag, or tagged `latest`, is whatever the registry serves at the moment the job starts: a ' +
    'new upstream release, or a malicious push to a compromised publisher account, silently changes the code that ' +
    'runs next to your repository checkout and token. A version tag narrows this but can still be re-pushed; only ' +
    'a digest (`@sha256:…`) names exactly one image. Missing tags and `latest` are reported with high severity, ' +
    'tags without any version number (`master`, `alpine`, `stable`) with medium severity, and version tags without ' +
    'a digest with low severity. Images computed by expressions are not checked.',
  remediation:
    'Pin the image to a version tag and its digest, e.g. `image: postgres:16.4@sha256:<digest>`; Dependabot and ' +
    'Renovate can keep digests current.',
  examples: {
    bad: [
      'on: push',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-latest',
      '    services:',
      '      redis:',
      '        image: redis:latest',
      '    steps:',
      '      - run: make test',
      '',
    ].join('\n'),
    good: [
      'on: push',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-latest',
      '    services:',
      '      redis:',
      '        image: redis:7.4-alpine@sha256:1bf97f21f01b0e7bd4b7b34a26d3b9d8086e41e70c10f262e8a9e0b49b5116a0',
      '    steps:',
      '      - run: make test',
      '',
    ].join('\n'),
  },
  fixes: {
    safety: 'safe',
    description:
      'Appends the digest (`node:18.13.0@sha256:…`) when the dated table src/analysis/knowledge/image-digests.ts ' +
      'records it, which it does only for full-version tags (a floating tag\'s recorded digest would be an older ' +
      'image than the tag serves). Safe: the digest names the image the tag stands for.',
  },
  check(ctx) {
    for (const job of jobsOf(ctx.file)) {
      for (const site of containersOf(job)) {
        const imageNode = isScalar(site.node) ? site.node : mapGet(site.node, 'image');
        const where = site.kind === 'container' ? `job \`${job.id}\` container` : `service \`${site.name}\` of job \`${job.id}\``;
        checkImage(ctx, imageNode, scalarText(imageNode), where);
      }
    }
    for (const step of stepsOf(ctx.file)) {
      const uses = usesOf(step.node);
      if (uses?.ref.kind === 'docker') checkImage(ctx, uses.node, uses.ref.image, '`docker://` step');
    }
    const actionImage = mapGet(mapGet(rootMap(ctx.file), 'runs'), 'image');
    const actionImageText = scalarText(actionImage)?.trim();
    // A Docker action's `runs.image` is either a Dockerfile path (built from source) or a docker:// image.
    if (ctx.file.kind === 'action' && actionImageText?.startsWith('docker://')) {
      checkImage(ctx, actionImage, actionImageText.slice('docker://'.length), 'Docker action');
    }
  },
};

function checkImage(ctx: RuleContext, node: Node | undefined, image: string | undefined, where: string): void {
  const reference = image?.trim();
  if (!node || !reference || hasExpression(reference)) return;
  const pin = imagePin(reference);
  if (pin.digest) return;
  const fix = pinDigest(node, reference);
  if (pin.tag === undefined) {
    ctx.report({ node, message: `${where} image \`${reference}\` has no tag, so it runs whatever \`latest\` is when the job starts`, ...fix });
  } else if (pin.tag === 'latest') {
    ctx.report({ node, message: `${where} image \`${reference}\` uses the moving \`latest\` tag`, ...fix });
  } else if (!/\d/.test(pin.tag)) {
    ctx.report({
      node,
      message: `${where} image \`${reference}\` uses the tag \`${pin.tag}\`, which names a channel or branch, not a version`,
      severity: 'medium',
      confidence: 'medium',
      ...fix,
    });
  } else {
    ctx.report({
      node,
      message: `${where} image \`${reference}\` is pinned by tag only; the tag can be re-pushed, a digest cannot`,
      severity: 'low',
      confidence: 'low',
      ...fix,
    });
  }
}

/** Safe: the recorded digest is the image of the full-version tag already written (see the rule's `fixes`). */
function pinDigest(node: Node, reference: string): { fix: FixPlan } | { unfixable: string } {
  const known = knownImageDigest(reference);
  if (known === undefined) return { unfixable: `no known digest for \`${reference}\`; pin it by hand or let Dependabot or Renovate do it` };
  return {
    fix: {
      safety: 'safe',
      title: `Pin \`${reference}\` to its digest (recorded ${known.recorded})`,
      edits: ({ file }) => {
        const value = scalarText(node);
        if (!isScalar(node) || value === undefined) return { unfixable: 'the image is not a plain value' };
        // The value may be `docker://<reference>`: only the reference gains the digest.
        const edit = replaceScalar(file, node, value.replace(reference, `${reference}@${known.digest}`));
        return isUnfixable(edit) ? edit : [edit];
      },
    },
  };
}

/** Tag and digest of an image reference `[registry[:port]/]path[:tag][@digest]`. */
function imagePin(reference: string): { tag?: string; digest?: string } {
  const at = reference.indexOf('@');
  const name = at >= 0 ? reference.slice(0, at) : reference;
  const digest = at >= 0 ? reference.slice(at + 1) : undefined;
  // The tag separator is a colon in the last path component; a colon before it is a registry port.
  const lastComponent = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastComponent.indexOf(':');
  const tag = colon >= 0 ? lastComponent.slice(colon + 1) : undefined;
  return { ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}
