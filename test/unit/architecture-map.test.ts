// docs/architecture.md's map is the tree: every file under lib/ and src-native/ is named in it under its
// folder, and every file it names exists. A file added, moved or removed without the map fails here.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function walk(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    return entry.isDirectory() ? walk(rel) : [rel];
  });
}

/** The files the map's code block names: folder lines end in `/`, file lines are indented below them. */
function mapped(): Set<string> {
  const doc = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Map'));
  const block = section.slice(section.indexOf('```\n') + 4, section.indexOf('\n```', section.indexOf('```\n') + 4));
  const files = new Set<string>();
  let folder = '';
  for (const line of block.split('\n')) {
    const folderLine = /^(\S+\/)\s/.exec(line + ' ');
    if (folderLine) {
      folder = folderLine[1]!;
      continue;
    }
    // "  name.ts   text", or "  name.h .cc   text" for a header and its source.
    const fileLine = /^ {2}(\S+)((?: \.\w+)*)\s{2,}/.exec(line);
    if (!fileLine) continue;
    const name = fileLine[1]!;
    files.add(folder + name);
    for (const ext of fileLine[2]!.trim().split(/\s+/).filter(Boolean)) files.add(folder + name.replace(/\.\w+$/, ext));
  }
  return files;
}

t.test('the map names every file of lib/ and src-native/, and nothing else', async (t) => {
  const tree = new Set([...walk('lib'), ...walk('src-native')]);
  const map = mapped();
  t.ok(map.size > 50, `the map was read (${map.size} files)`);
  t.same([...tree].filter((f) => !map.has(f)).sort(), [], 'files in the tree the map does not name');
  t.same([...map].filter((f) => !tree.has(f)).sort(), [], 'files the map names that are not in the tree');
});
