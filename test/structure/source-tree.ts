// Reads src/ the way a reviewer checks its shape: every .ts file with its line count, its
// functions with their lengths (from the TypeScript compiler's syntax tree, so a long arrow
// function inside a call counts too), and the import graph between the files — `import type`
// and `export … from` included, because a type-only cycle still ties two rooms together.
// Dynamic `import()` is left out: loading a module lazily is a deliberate way to break a cycle.
import ts from 'typescript';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface SourceFile {
  /** Path relative to the repository root, with forward slashes (src/core/model.ts). */
  path: string;
  lines: number;
  functions: { name: string; line: number; lines: number }[];
  /** Repository-relative paths of the src files this one imports. */
  imports: string[];
}

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The file a relative specifier names ('./x.ts', './x.js', './x', './dir'), or null. */
function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.(m?js)$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c) && statSync(c).isFile()) ?? null;
}

function functionName(n: ts.SignatureDeclaration): string {
  if (n.name) return n.name.getText();
  // An anonymous function: name it by what holds it (const x = () => …, a property, a call).
  const parent = n.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) {
    return parent.name.getText();
  }
  return '(anonymous)';
}

export function readSourceTree(srcDir = join(ROOT, 'src')): SourceFile[] {
  return tsFiles(srcDir).map((abs) => {
    const text = readFileSync(abs, 'utf8');
    const sf = ts.createSourceFile(abs, text, ts.ScriptTarget.Latest, true);
    const functions: SourceFile['functions'] = [];
    const imports = new Set<string>();
    const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line;
    const visit = (n: ts.Node): void => {
      if (ts.isFunctionLike(n) && 'body' in n && n.body) {
        const first = lineOf(n.getStart(sf));
        functions.push({ name: functionName(n), line: first + 1, lines: lineOf(n.end) - first + 1 });
      }
      if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
        const target = resolveImport(abs, n.moduleSpecifier.text);
        if (target) imports.add(relative(ROOT, target).split('\\').join('/'));
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
    const lines = text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    return { path: relative(ROOT, abs).split('\\').join('/'), lines, functions, imports: [...imports].sort() };
  });
}

/**
 * Every import cycle, one per strongly connected component of the graph (Tarjan), each shown as
 * one concrete loop through the component: a → b → … → a.
 */
export function importCycles(files: SourceFile[]): string[][] {
  const graph = new Map(files.map((f) => [f.path, f.imports]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) components.push(component);
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return components.map((c) => loopThrough(graph, new Set(c)));
}

/** The shortest loop from the component's first file (in sorted order) back to itself. */
function loopThrough(graph: Map<string, string[]>, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
