// The shape a reviewer checks before reading the code (issue 15): no source file outside the
// simulator over 600 lines, no function over 80 lines, no import cycle in src/. A failure lists
// every offender, so the message is the to-do list. The simulator is exempt from the file limit
// only: its protocol engines keep flat typed-array state together on purpose.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importCycles, readSourceTree } from './source-tree.ts';

const MAX_FILE_LINES = 600;
const MAX_FUNCTION_LINES = 80;
const FILE_LIMIT_EXEMPT = 'src/mesh/simulator/';

const files = readSourceTree();

function report(what: string, offenders: string[]): void {
  if (offenders.length === 0) return;
  const message = `${offenders.length} ${what}:\n  ${offenders.join('\n  ')}`;
  assert.unreachable(message);
}

test('reads the source tree', () => {
  // Guards the other checks against passing on an empty or misread tree.
  assert.ok(files.length > 100, `only ${files.length} .ts files found under src/`);
  assert.ok(files.some((f) => f.imports.length > 0), 'no imports resolved');
  assert.ok(files.some((f) => f.functions.length > 0), 'no functions found');
});

test(`no source file outside ${FILE_LIMIT_EXEMPT} is over ${MAX_FILE_LINES} lines`, () => {
  report(
    `file(s) over ${MAX_FILE_LINES} lines`,
    files.filter((f) => !f.path.startsWith(FILE_LIMIT_EXEMPT) && f.lines > MAX_FILE_LINES).map((f) => `${f.path}: ${f.lines} lines`),
  );
});

test(`no function in src/ is over ${MAX_FUNCTION_LINES} lines`, () => {
  const long = files.flatMap((f) =>
    f.functions.filter((fn) => fn.lines > MAX_FUNCTION_LINES).map((fn) => ({ at: `${f.path}:${fn.line} ${fn.name}`, lines: fn.lines })),
  );
  report(
    `function(s) over ${MAX_FUNCTION_LINES} lines`,
    long.sort((a, b) => b.lines - a.lines).map((l) => `${l.at}: ${l.lines} lines`),
  );
});

test('no import cycles in src/ (import type and re-exports included)', () => {
  report('import cycle(s)', importCycles(files).map((loop) => loop.join(' → ')));
});

test('the cycle check finds a cycle', () => {
  // A check that cannot fail proves nothing: a three-file loop and a self-import are found.
  const f = (path: string, imports: string[]) => ({ path, lines: 1, functions: [], imports });
  const loops = importCycles([f('a', ['b']), f('b', ['c']), f('c', ['a', 'd']), f('d', []), f('e', ['e'])]);
  assert.equal(loops, [['a', 'b', 'c', 'a'], ['e', 'e']]);
});

test.run();
