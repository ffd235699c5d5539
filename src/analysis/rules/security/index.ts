import type { Rule } from '../../rule';
import { alwaysTrueIfRule } from './always-true-if';
import { cachePoisoningRule } from './cache-poisoning';
import { checkoutPersistedCredentialsRule } from './checkout-persisted-credentials';
import { dangerousTriggerRule } from './dangerous-trigger';
import { envFileInjectionRule } from './env-file-injection';
import { hardcodedCredentialsRule } from './hardcoded-credentials';
import { insecureCommandsRule } from './insecure-commands';
import { missingPermissionsRule } from './missing-permissions';
import { overbroadPermissionsRule } from './overbroad-permissions';
import { scriptInjectionRule } from './script-injection';
import { secretsInheritRule } from './secrets-inherit';
import { selfHostedRunnerOnPrRule } from './self-hosted-runner-on-pr';
import { spoofableBotCheckRule } from './spoofable-bot-check';
import { unpinnedActionRule } from './unpinned-action';
import { unpinnedImageRule } from './unpinned-image';
import { untrustedCheckoutRule } from './untrusted-checkout';

/** The security rules, one import per rule file; keep alphabetical. */
export const securityRules: readonly Rule[] = [
  alwaysTrueIfRule,
  cachePoisoningRule,
  checkoutPersistedCredentialsRule,
  dangerousTriggerRule,
  envFileInjectionRule,
  hardcodedCredentialsRule,
  insecureCommandsRule,
  missingPermissionsRule,
  overbroadPermissionsRule,
  scriptInjectionRule,
  secretsInheritRule,
  selfHostedRunnerOnPrRule,
  spoofableBotCheckRule,
  unpinnedActionRule,
  unpinnedImageRule,
  untrustedCheckoutRule,
];
