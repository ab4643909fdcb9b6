#!/usr/bin/env python3
"""Check that no C function in the given folders is longer than a limit.

usage: tests/check-function-length.py [--max N] [--top K] [--exclude GLOB]... DIR...

A function's length is counted from the line that names it to the line of
its closing brace, both included.  Comments, strings and character
literals are blanked before the braces are matched, and preprocessor lines
are skipped, so a brace inside them does not count.

The output is TAP: one case per folder, failing when any function in it
is over the limit; each offender is listed in a diagnostic line.  With
--top K the K longest functions of all folders are printed instead (for
reading, not testing).  --exclude skips the files whose path matches GLOB
(fnmatch, relative to the working directory).
"""
import fnmatch
import os
import re
import sys

IDENT = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*$')
NON_FUNCTION = {'if', 'for', 'while', 'switch', 'return', 'sizeof'}


def blank(text):
    """Replace comments, strings and char literals by spaces, keep newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r'[^\n]', ' ', text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    text = ''.join(out)
    # Preprocessor lines (with their continuations) hold no function braces.
    return re.sub(r'(?m)^[ \t]*#(?:[^\n]*\\\n)*[^\n]*',
                  lambda m: re.sub(r'[^\n]', ' ', m.group(0)), text)


def functions(path):
    """Yield (name, first_line, length) for every function defined in path."""
    with open(path, encoding='utf-8', errors='replace') as f:
        text = blank(f.read())
    depth = 0
    start = None          # offset where the current top-level declaration began
    header_end = None
    i = 0
    for i, c in enumerate(text):
        if depth == 0 and start is None and not c.isspace():
            start = i
        if c == '{':
            if depth == 0:
                header_end = i
            depth += 1
        elif c == '}':
            depth -= 1
            if depth == 0 and header_end is not None:
                found = function_name(text, start, header_end)
                if found:
                    name, name_at = found
                    first = text.count('\n', 0, name_at) + 1
                    last = text.count('\n', 0, i) + 1
                    yield name, first, last - first + 1
                header_end = None
                # A function ends its declaration; a struct or an
                # initializer goes on to a declarator or a ';'.
                if found:
                    start = None
        elif c == ';' and depth == 0:
            start = None
            header_end = None


def function_name(text, start, brace):
    """The name of the function whose body opens at brace, or None."""
    header = text[start:brace].rstrip()
    if not header.endswith(')') or '=' in header:
        return None
    # Walk back over the parameter list to its opening parenthesis.
    depth = 0
    for j in range(len(header) - 1, -1, -1):
        if header[j] == ')':
            depth += 1
        elif header[j] == '(':
            depth -= 1
            if depth == 0:
                break
    else:
        return None
    m = IDENT.search(header[:j])
    if not m or m.group(1) in NON_FUNCTION:
        return None
    return m.group(1), start + m.start(1)


def c_files(folder, exclude=()):
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.endswith('.c') and not any(fnmatch.fnmatch(path, g) for g in exclude):
                yield path


def main(argv):
    limit, top, folders, exclude = 100, 0, [], []
    args = iter(argv)
    for a in args:
        if a == '--max':
            limit = int(next(args))
        elif a == '--top':
            top = int(next(args))
        elif a == '--exclude':
            exclude.append(next(args))
        else:
            folders.append(a)
    if not folders:
        print(__doc__, file=sys.stderr)
        return 2
    found = {d: [(n, p, first, length) for p in c_files(d, exclude)
                 for n, first, length in functions(p)] for d in folders}
    if top:
        every = sorted((f for fs in found.values() for f in fs), key=lambda f: -f[3])
        for name, path, first, length in every[:top]:
            print(f'{length:5d}  {name}  {path}:{first}')
        return 0
    print(f'1..{len(folders)}')
    failed = 0
    for k, d in enumerate(folders, 1):
        long = sorted((f for f in found[d] if f[3] > limit), key=lambda f: -f[3])
        if not found[d]:
            print(f'not ok {k} - {d}: no functions found')
            failed += 1
            continue
        print(f'{"not ok" if long else "ok"} {k} - {d}: {len(found[d])} functions, '
              f'none over {limit} lines' if not long else
              f'not ok {k} - {d}: {len(long)} of {len(found[d])} functions over {limit} lines')
        for name, path, first, length in long:
            print(f'# {path}:{first}: {name} is {length} lines')
        failed += bool(long)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
