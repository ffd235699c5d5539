import { jobsOf, mapGet, mapPair, type Rule, stepsOfJob, triggersOf } from '../../rule';
import { isPublishingWorkflowFile, isSelfHostedJob, stepAction } from '../cost-facts';

/** Inputs of docker/build-push-action that show the author decided about the layer cache. */
const cacheInputs = ['cache-from', 'cache-to', 'no-cache'];

/** Events that run a workflow often enough for a cold build on each run to matter. */
const frequentEvents = ['pull_request', 'push', 'merge_group'];

export const dockerBuildWithoutCacheRule: Rule = {
  id: 'docker-build-without-cache',
  category: 'performance',
  severity: 'low',
  confidence: 'medium',
  appliesTo: ['workflow'],
  description:
    'Finds `docker/build-push-action` steps in pull request and push workflows that build without ' +
    '`cache-from`/`cache-to`, so every run rebuilds all image layers.',
  rationale:
    'Hosted runners start empty, so BuildKit has no layer cache from earlier runs: without `cache-from` and ' +
    '`cache-to` every run repeats every `RUN` step of the Dockerfile, including package installs and compilation ' +
    'that did not change. Exporting the cache (for example to the GitHub Actions cache with `type=gha`, or to a ' +
    'registry) typically cuts image builds from minutes to seconds when only the last layers change. Builds on ' +
    'self-hosted runners (which usually keep their layer cache) and in workflows that push images or publish ' +
    'releases are skipped: restoring a cache written by pull request runs into a release build is a cache-poisoning ' +
    'risk.',
  remediation:
    'Set up Buildx with `docker/setup-buildx-action` and add `cache-from: type=gha` and `cache-to: ' +
    'type=gha,mode=max` (or a registry cache) to the build step.',
  examples: {
    bad: `name: CI
on: pull_request
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          context: .
          load: true
          tags: app:test
`,
    good: `name: CI
on: pull_request
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          context: .
          load: true
          tags: app:test
          cache-from: type=gha
          cache-to: type=gha,mode=max
`,
  },
  check(ctx) {
    const triggers = triggersOf(ctx.file);
    if (!frequentEvents.some((event) => triggers.has(event)) || isPublishingWorkflowFile(ctx.file)) return;
    for (const job of jobsOf(ctx.file)) {
      // Self-hosted runners usually keep their local layer cache between runs.
      if (isSelfHostedJob(job)) continue;
      for (const step of stepsOfJob(job)) {
        const action = stepAction(step);
        if (action?.name !== 'docker/build-push-action') continue;
        const inputs = mapGet(step.node, 'with');
        if (cacheInputs.some((input) => mapPair(inputs, input) !== undefined)) continue;
        ctx.report({
          node: action.node,
          message:
            `\`docker/build-push-action\` in job \`${job.id}\` builds without \`cache-from\`/\`cache-to\`, ` +
            'so every run rebuilds all layers',
        });
      }
    }
  },
};
