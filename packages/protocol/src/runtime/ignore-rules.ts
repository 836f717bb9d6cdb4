/**
 * A .gitignore matcher for packing a job's working directory (see package-dir.ts). It covers the
 * common cases of gitignore(5): blank lines and `#` comments, `\#` and `\!` escapes, trailing
 * spaces (kept when escaped), `!negation`, a trailing `/` for directories only, anchoring by a
 * leading or middle `/`, `*`, `?`, `**` (leading, trailing, middle), and classes `[abc]`, `[a-z]`,
 * `[!abc]`. Not covered: POSIX named classes (`[[:digit:]]`) and git's case-folding option.
 *
 * Each rule belongs to the directory of its .gitignore file (its `base`) and only sees paths
 * below it, relative to it. The last rule that matches decides, as in git; the caller prunes
 * ignored directories, so, as in git, a file inside an excluded directory cannot be re-included.
 */

/** One parsed pattern line. */
export interface IgnoreRule {
  /** POSIX path of the directory whose .gitignore holds the rule, relative to the root; '' for the root. */
  base: string;
  /** Tested against the path relative to `base`. */
  regex: RegExp;
  /** `!pattern`: a match re-includes. */
  negate: boolean;
  /** `pattern/`: only directories match. */
  dirOnly: boolean;
  /** The line as written, for messages. */
  source: string;
}

/**
 * Parses the text of a .gitignore file (or pattern lines given some other way) into rules.
 * @param text - the file's contents; one pattern per line.
 * @param base - the POSIX path of the file's directory relative to the packed root ('' for the root).
 */
export function parseIgnoreRules(text: string, base = ''): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    const rule = parseLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw, base);
    if (rule) rules.push(rule);
  }
  return rules;
}

function parseLine(line: string, base: string): IgnoreRule | null {
  if (line === '' || line.startsWith('#')) return null;
  let pattern = trimTrailingSpaces(line);
  let negate = false;
  if (pattern.startsWith('!')) {
    negate = true;
    pattern = pattern.slice(1);
  } else if (pattern.startsWith('\\!') || pattern.startsWith('\\#')) {
    pattern = pattern.slice(1);
  }
  let dirOnly = false;
  if (pattern.endsWith('/') && !pattern.endsWith('\\/')) {
    dirOnly = true;
    pattern = pattern.replace(/\/+$/, '');
  }
  if (pattern === '') return null;
  // A slash at the start or in the middle anchors the pattern to the .gitignore's directory;
  // without one it matches a name at any depth below it.
  const anchored = pattern.includes('/');
  if (pattern.startsWith('/')) pattern = pattern.slice(1);
  const body = globToRegex(pattern);
  const regex = new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`, 's');
  return { base, regex, negate, dirOnly, source: line };
}

/** Drops trailing spaces unless the last one is escaped with a backslash. */
function trimTrailingSpaces(line: string): string {
  let end = line.length;
  while (end > 0 && line[end - 1] === ' ') {
    if (end >= 2 && line[end - 2] === '\\') {
      // "\ " keeps one space: drop the backslash, keep the space, stop trimming.
      return line.slice(0, end - 2) + ' ';
    }
    end -= 1;
  }
  return line.slice(0, end);
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/-]/g;

function escapeRegex(text: string): string {
  return text.replace(REGEX_SPECIAL, '\\$&');
}

/** Converts one glob (already stripped of `!`, anchoring `/` and trailing `/`) to a regex body. */
function globToRegex(glob: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const next = glob[i + 2];
        if (atStart && next === '/') {
          // "**/" : zero or more whole directories.
          out += '(?:.*/)?';
          i += 3;
          continue;
        }
        if (atStart && next === undefined) {
          // Trailing "/**" : everything inside; a lone "**" : everything.
          out += i === 0 ? '.*' : '.+';
          i += 2;
          continue;
        }
        // Any other run of stars is an ordinary star.
        while (glob[i + 1] === '*') i += 1;
      }
      out += '[^/]*';
      i += 1;
    } else if (c === '?') {
      out += '[^/]';
      i += 1;
    } else if (c === '[') {
      const parsed = parseClass(glob, i);
      if (parsed) {
        out += parsed.regex;
        i = parsed.end;
      } else {
        out += '\\[';
        i += 1;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[i + 1] as string);
      i += 2;
    } else {
      out += escapeRegex(c);
      i += 1;
    }
  }
  return out;
}

/** A bracket expression starting at `start`, or null when it is not closed (then `[` is literal). */
function parseClass(glob: string, start: number): { regex: string; end: number } | null {
  let i = start + 1;
  let negate = false;
  if (glob[i] === '!' || glob[i] === '^') {
    negate = true;
    i += 1;
  }
  let members = '';
  // A "]" right after the opening (or after the negation) is a member, not the end.
  if (glob[i] === ']') {
    members += '\\]';
    i += 1;
  }
  while (i < glob.length && glob[i] !== ']') {
    let c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) {
      i += 1;
      c = glob[i] as string;
    }
    // Keep "-" unescaped between members so ranges work; escape what a regex class treats specially.
    members += c === '-' ? '-' : c === '\\' || c === ']' || c === '[' || c === '^' ? `\\${c}` : c;
    i += 1;
  }
  if (i >= glob.length) return null;
  // A class never matches "/" (git matches with FNM_PATHNAME).
  return { regex: negate ? `[^/${members}]` : `(?!/)[${members}]`, end: i + 1 };
}

/**
 * Whether `relPath` (POSIX, relative to the packed root) is ignored. Rule lists are consulted in
 * order and the last matching rule decides, so later lists take precedence over earlier ones.
 * @param relPath - the path to test, without leading or trailing slash.
 * @param isDir - whether it is a directory (for `pattern/` rules).
 */
export function isIgnored(relPath: string, isDir: boolean, ...ruleLists: IgnoreRule[][]): boolean {
  let ignored = false;
  for (const rules of ruleLists) {
    for (const rule of rules) {
      if (rule.dirOnly && !isDir) continue;
      let local = relPath;
      if (rule.base !== '') {
        if (!relPath.startsWith(`${rule.base}/`)) continue;
        local = relPath.slice(rule.base.length + 1);
      }
      if (rule.regex.test(local)) ignored = !rule.negate;
    }
  }
  return ignored;
}
