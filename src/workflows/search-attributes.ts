import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes of patch lifecycle runs, for `temporal workflow list --query` and the Web UI. */
export const patchStatusKey = defineSearchAttributeKey('PatchStatus', SearchAttributeType.KEYWORD);
export const patchTypeKey = defineSearchAttributeKey('PatchType', SearchAttributeType.KEYWORD);
export const patchTargetsKey = defineSearchAttributeKey('PatchTargets', SearchAttributeType.KEYWORD_LIST);

export const customSearchAttributes = [patchStatusKey, patchTypeKey, patchTargetsKey] as const;

/** Temporal refuses a search attribute value larger than this (`limit.searchAttributeValueSize`, 2 KiB by default). */
const SEARCH_ATTRIBUTE_VALUE_BYTES = 2048;

/**
 * The target names a run is indexed by: all of them while they fit in one search attribute value (a JSON list),
 * else the first ones that do. A patch to a large fleet would otherwise be refused at its start; the read model
 * lists every target.
 */
export function indexedTargetNames(names: readonly string[]): string[] {
  const kept: string[] = [];
  // `[]`, then per name its JSON string and a comma; target names are ASCII (`org/repo`), one byte a character.
  let bytes = 2;
  for (const name of names) {
    bytes += JSON.stringify(name).length + (kept.length > 0 ? 1 : 0);
    if (bytes > SEARCH_ATTRIBUTE_VALUE_BYTES) break;
    kept.push(name);
  }
  return kept;
}

/** The search attributes a lifecycle run starts with (the API's starts, and the tests'). */
export function patchStartSearchAttributes(patch: { type: string; targets: ReadonlyArray<{ name: string }> }) {
  return [
    { key: patchStatusKey, value: 'pending' },
    { key: patchTypeKey, value: patch.type },
    { key: patchTargetsKey, value: indexedTargetNames(patch.targets.map((target) => target.name)) },
  ];
}
