/**
 * Action refs for fixes that pin or bump `uses:`: resolved before fixing, because fixes never do I/O.
 */
import type { ActionRefLookup } from '../analysis/rule';

/** The lookup when no resolver is configured: every ref stays unresolved, so fixes that need one are skipped. */
export const unresolvedActionRefs: ActionRefLookup = {
  resolve: () => ({ unresolved: 'action refs are not resolved: no resolver configured' }),
};
