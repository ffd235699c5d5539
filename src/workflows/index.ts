/** Every Temporal workflow the worker registers. */
export { analyzeTargetWorkflow } from './analysis';
export { fleetScanBatchWorkflow, fleetScanWorkflow } from './fleet-scan';
export { patchLifecycleWorkflow } from './patch-lifecycle';
export { compensatePatchWorkflow, reconcileWorkflow } from './reconcile';
export { agentCycleWorkflow } from './agent-cycle';
