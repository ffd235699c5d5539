/**
 * `node dist/src/ci-run/install-act.js` (`npm run install:act`): builds nektos/act into .tools/bin/act when it is
 * missing. CI and workers run it once up front; the workflow-run test stage never builds act, which takes minutes
 * of a test activity's time. Without act the stage is skipped with the reason printed here, so this never fails for it.
 */
import { resolveActBinary } from './act-binary';

async function installAct(): Promise<void> {
  const act = await resolveActBinary({ log: (line) => console.log(`install-act: ${line}`) });
  if (act.available) console.log(`install-act: act is at ${act.path}`);
  else console.warn(`install-act: act is unavailable, the workflow-run stage will be skipped: ${act.reason}`);
}

installAct().catch((error: unknown) => {
  console.error(`install-act: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
