/**
 * Small helpers for the compatibility and quality rule tests: YAML text from lines, and asymmetric string
 * matchers typed `unknown` (jest types them `any`, which the lint rules reject inside object literals).
 */
export const lines = (...text: string[]): string => `${text.join('\n')}\n`;

export const containing = (text: string): unknown => expect.stringContaining(text);

export const matching = (pattern: RegExp): unknown => expect.stringMatching(pattern);
