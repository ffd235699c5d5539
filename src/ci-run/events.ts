/**
 * The events whose jobs the workflow-run stage can start, and the event payload act gets for each. The payload holds
 * only what act derives the run's refs from (GITHUB_REF, GITHUB_HEAD_REF, GITHUB_BASE_REF): the target branch on
 * both sides of a pull request, since the patch is tested against that branch.
 */

/**
 * GitHub's events that trigger workflows (docs: "Events that trigger workflows"), except `workflow_call`: a reusable
 * workflow runs through the workflows that call it.
 */
export const RUNNABLE_EVENTS = [
  'branch_protection_rule', 'check_run', 'check_suite', 'create', 'delete', 'deployment', 'deployment_status',
  'discussion', 'discussion_comment', 'fork', 'gollum', 'issue_comment', 'issues', 'label', 'merge_group',
  'milestone', 'page_build', 'public', 'pull_request', 'pull_request_review', 'pull_request_review_comment',
  'pull_request_target', 'push', 'registry_package', 'release', 'repository_dispatch', 'schedule', 'status', 'watch',
  'workflow_dispatch', 'workflow_run',
] as const;
export type RunnableEvent = (typeof RUNNABLE_EVENTS)[number];

const PULL_REQUEST_EVENTS: ReadonlySet<string> = new Set(['pull_request', 'pull_request_review', 'pull_request_review_comment', 'pull_request_target']);

/** The `github.event` act runs `event` with, on `branch`. */
export function eventPayload(event: string, branch: string): Record<string, unknown> {
  const ref = `refs/heads/${branch}`;
  if (!PULL_REQUEST_EVENTS.has(event)) return { ref };
  // act takes the pull request's refs from here; number 1 is a stand-in that no step can act on offline.
  return { number: 1, pull_request: { number: 1, head: { ref: branch }, base: { ref: branch } } };
}
