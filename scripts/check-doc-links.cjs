#!/usr/bin/env node
/**
 * Checks every relative link in the user docs: the file must exist and, when the link names an
 * anchor, the target must have a heading with that GitHub-style anchor. External links are not
 * fetched. Usage: node scripts/check-doc-links.cjs [file.md ...] (default: README, CHANGELOG,
 * CONTRIBUTING and docs/*.md). Exits 1 and lists every broken link.
 */
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function defaultFiles() {
  const docs = fs
    .readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md', ...docs].filter((file) => fs.existsSync(path.join(root, file)));
}

/** The lines outside fenced code blocks: a `# comment` in a bash block is not a heading, a `](x)` in code not a link. */
function proseLines(text) {
  const lines = [];
  let fence = null;
  for (const [index, line] of text.split('\n').entries()) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === null || marker.startsWith(fence))) {
      fence = fence === null ? marker : null;
      continue;
    }
    if (fence === null) lines.push({ number: index + 1, line });
  }
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(text) {
  const anchors = new Set();
  const seen = new Map();
  for (const { line } of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const plain = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

function linksOf(text) {
  const links = [];
  for (const { number, line } of proseLines(text)) {
    // Inline code may show link syntax as text; it is not a link.
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/\]\(([^)\s]+)\)/g)) links.push({ number, target: match[1] });
  }
  return links;
}

const anchorCache = new Map();
function anchorsIn(file) {
  if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(fs.readFileSync(file, 'utf8')));
  return anchorCache.get(file);
}

function problemWith(fromFile, target) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto:: not checked here
  const [rawPath, anchor] = target.split('#', 2);
  const file = rawPath === '' ? fromFile : path.resolve(path.dirname(fromFile), decodeURIComponent(rawPath));
  if (!fs.existsSync(file)) return `no such file ${path.relative(root, file)}`;
  if (anchor === undefined || anchor === '') return null;
  if (!file.endsWith('.md')) return `anchor #${anchor} on a file that is not Markdown`;
  return anchorsIn(file).has(anchor) ? null : `no heading for #${anchor} in ${path.relative(root, file)}`;
}

const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles();
let broken = 0;
let checked = 0;
for (const relative of files) {
  const file = path.resolve(root, relative);
  for (const { number, target } of linksOf(fs.readFileSync(file, 'utf8'))) {
    checked += 1;
    const problem = problemWith(file, target);
    if (problem === null) continue;
    broken += 1;
    console.log(`${path.relative(root, file)}:${number}: ${target}: ${problem}`);
  }
}
console.log(`${checked} links checked in ${files.length} files, ${broken} broken`);
process.exit(broken === 0 ? 0 : 1);
