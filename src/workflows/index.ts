/** Every Temporal workflow the worker registers. */
export { analyzeTargetWorkflow, fleetScanWorkflow } from './analysis';
export { patchLifecycleWorkflow } from './patch-lifecycle';
export { compensatePatchWorkflow, reconcileWorkflow } from './reconcile';
export { agentCycleWorkflow } from './agent-cycle';
