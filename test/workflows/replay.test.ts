/**
 * Replays recorded histories (test/replay/*.json) against the current workflow code, so a change that is not
 * deterministic with respect to runs already in flight fails CI. The patch lifecycle's are recorded with
 * `WPA_RECORD_HISTORIES=1 npx jest test/workflows/patch-lifecycle` only for a deliberate, versioned change
 * (use `patched()` for anything running in production); `v5-health-round-decided-early` by
 * `WPA_RECORD_HISTORIES=1 npx jest test/workflows/rollback-pool -t "failing result"`; `fleet-scan-v1-*` and `agent-cycle-v1-*` are runs of the
 * fleet scan and the agent cycle from before scans were batched (one activity per target in the workflow).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { sharedTestState } from '../support/shared-state';

const REPLAY_DIR = path.join(__dirname, '..', 'replay');
const histories = readdirSync(REPLAY_DIR).filter((file) => file.endsWith('.json')).sort();

describe('replay of recorded histories', () => {
  test('there are recorded histories to replay', () => {
    expect(histories.length).toBeGreaterThanOrEqual(5);
  });

  test.each(histories)('%s replays without non-determinism', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(REPLAY_DIR, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: sharedTestState().workflowBundlePath } }, history, file.replace(/\.json$/, ''));
  });
});
