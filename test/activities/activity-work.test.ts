/**
 * Heartbeats of the git-heavy activities, in the SDK's activity test harness (a real activity Context): an
 * activity that ends before the first heartbeat is due sends none, a longer one sends its current step.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeating } from '../../src/activities/activity-work';

async function heartbeatsOf(firstHeartbeatMs: number, work: (progress: (step: string) => void) => Promise<void>): Promise<unknown[]> {
  const environment = new MockActivityEnvironment();
  const heartbeats: unknown[] = [];
  environment.on('heartbeat', (details: unknown) => heartbeats.push(details));
  await environment.run(() => heartbeating(firstHeartbeatMs, work));
  return heartbeats;
}

describe('heartbeating', () => {
  it('sends nothing for an activity that ends before its first heartbeat is due', async () => {
    const heartbeats = await heartbeatsOf(500, async (progress) => {
      progress('fetching');
      await sleep(50);
      progress('applying the diff');
    });
    expect(heartbeats).toEqual([]);
  });

  it('sends the current step once the first heartbeat is due, and every step after it', async () => {
    const heartbeats = await heartbeatsOf(100, async (progress) => {
      progress('fetching');
      await sleep(300);
      progress('applying the diff');
    });
    expect(heartbeats).toEqual(['fetching', 'applying the diff']);
  });

  it('sends the first step at once when the delay is 0', async () => {
    const heartbeats = await heartbeatsOf(0, async (progress) => {
      await Promise.resolve();
      progress('fetching');
    });
    expect(heartbeats).toEqual(['starting', 'fetching']);
  });
});
