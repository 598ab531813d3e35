#!/usr/bin/env python3
"""test-names.py FILE...: the names given to ok in shell tests that can
change from run to run.  A name is the second word of an `ok STATUS NAME
[DIAGNOSTIC]` call; it may name a variable only when the file sets it in
a `for VAR in` loop (a fixed list), and holds no command substitution.
Prints FILE:LINE: NAME for each other one; exits 1 when it prints any."""
import re
import sys


def skip_single(s, i):
    return s.index("'", i) + 1


def skip_double(s, i):
    """s[i] follows an opening double quote; returns the index past its end."""
    while s[i] != '"':
        if s[i] == '\\':
            i += 2
        elif s.startswith('$(', i):
            i = skip_command(s, i + 2)
        elif s[i] == '`':
            i = s.index('`', i + 1) + 1
        else:
            i += 1
    return i + 1


def skip_command(s, i):
    """s[i] follows "$("; returns the index past its closing parenthesis."""
    depth = 1
    while depth:
        c = s[i]
        if c == '\\':
            i += 2
            continue
        if c == '"':
            i = skip_double(s, i + 1)
            continue
        if c == "'":
            i = skip_single(s, i + 1)
            continue
        depth += c == '('
        depth -= c == ')'
        i += 1
    return i


def word(s, i):
    """The shell word starting at s[i] (after blanks and line
    continuations), and the index past it."""
    while s[i] in ' \t' or s.startswith('\\\n', i):
        i += 2 if s[i] == '\\' else 1
    start = i
    while i < len(s) and s[i] not in ' \t\n;&|)':
        if s[i] == '"':
            i = skip_double(s, i + 1)
        elif s[i] == "'":
            i = skip_single(s, i + 1)
        elif s.startswith('$(', i):
            i = skip_command(s, i + 2)
        elif s[i] == '\\':
            i += 2
        else:
            i += 1
    return s[start:i], i


CALL = re.compile(r'(?:^|[;&|{(]|\bthen|\bdo|\belse|\))[ \t]*ok[ \t]+', re.M)
VAR = re.compile(r'\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*)|([0-9#?$!@*-]))')


def changing(name, loop_vars):
    if '$(' in name or '`' in name:
        return True
    for m in VAR.finditer(name):
        v = m.group(1) or m.group(2)
        if not v or v not in loop_vars:
            return True
    return False


def main(files):
    found = 0
    for path in files:
        text = open(path).read()
        loop_vars = set(re.findall(r'\bfor[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]+in\b', text))
        end = 0
        for m in CALL.finditer(text):
            line = text.count('\n', 0, m.start()) + 1
            if m.start() < end or text[text.rfind('\n', 0, m.start()) + 1:m.start()].lstrip().startswith('#'):
                continue	# inside the words of the call before, or a comment
            status, i = word(text, m.end())
            name, i = word(text, i)
            end = word(text, i)[1]
            if changing(name, loop_vars):
                print('%s:%d: %s' % (path, line, name))
                found = 1
    return found


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
