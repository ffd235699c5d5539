import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes of patch lifecycle runs, for `temporal workflow list --query` and the Web UI. */
export const patchStatusKey = defineSearchAttributeKey('PatchStatus', SearchAttributeType.KEYWORD);
export const patchTypeKey = defineSearchAttributeKey('PatchType', SearchAttributeType.KEYWORD);
export const patchTargetsKey = defineSearchAttributeKey('PatchTargets', SearchAttributeType.KEYWORD_LIST);

export const customSearchAttributes = [patchStatusKey, patchTypeKey, patchTargetsKey] as const;
