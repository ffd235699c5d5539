import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes of patch lifecycle runs, for `temporal workflow list --query` and the Web UI. */
export const patchStatusKey = defineSearchAttributeKey('PatchStatus', SearchAttributeType.KEYWORD);
export const patchTypeKey = defineSearchAttributeKey('PatchType', SearchAttributeType.KEYWORD);
export const patchTargetsKey = defineSearchAttributeKey('PatchTargets', SearchAttributeType.KEYWORD_LIST);

export const customSearchAttributes = [patchStatusKey, patchTypeKey, patchTargetsKey] as const;

/** The search attributes a lifecycle run starts with (the API's starts, and the tests'). */
export function patchStartSearchAttributes(patch: { type: string; targets: ReadonlyArray<{ name: string }> }) {
  return [
    { key: patchStatusKey, value: 'pending' },
    { key: patchTypeKey, value: patch.type },
    { key: patchTargetsKey, value: patch.targets.map((target) => target.name) },
  ];
}
