import { promises as fs } from 'node:fs';
import { getSharedState } from './shared-state';

export default async function globalTeardown(): Promise<void> {
  const state = getSharedState();
  if (!state) return;
  await state.stopDatabase();
  await fs.rm(state.scratch, { recursive: true, force: true });
}
