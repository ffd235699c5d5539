/**
 * `node dist/src/forges/install-gitea.js` (`npm run install:gitea`): builds Gitea into .tools/bin/gitea when it is
 * missing. CI runs it once up front, rather than inside the first Gitea test's timeout. Without Gitea the tests
 * against it skip with the reason printed here, so this never fails for it.
 */
import { resolveGiteaBinary } from './gitea-binary';

async function installGitea(): Promise<void> {
  const gitea = await resolveGiteaBinary({ log: (line) => console.log(`install-gitea: ${line}`) });
  if (gitea.available) console.log(`install-gitea: gitea is at ${gitea.path}`);
  else console.warn(`install-gitea: gitea is unavailable, the tests against it will be skipped: ${gitea.reason}`);
}

installGitea().catch((error: unknown) => {
  console.error(`install-gitea: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
