import { existsSync } from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/** The folder holding this project's package.json, from source (ts) and compiled (dist/) code alike. */
export function projectRoot(): string {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'migrations'))) {
      cached = dir;
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`project root not found above ${__dirname}`);
  }
}
