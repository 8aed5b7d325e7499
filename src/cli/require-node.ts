// Imported first by main.ts, so that a too-old Node is refused with one line before any other
// module (libp2p among them) is evaluated and fails in its own way.
import { nodeVersionProblem } from './node-version.ts';

const problem = nodeVersionProblem();
if (problem) {
  process.stderr.write(problem + '\n');
  process.exit(1);
}
