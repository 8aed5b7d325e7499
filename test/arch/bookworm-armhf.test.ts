// test:arch on bookworm-armhf (see targets.ts for what runs where, arch-suite.ts for the cases).
import { runArchSuite } from './arch-suite.ts';

runArchSuite('bookworm-armhf');
