#!/usr/bin/env python3
"""Checks a KCIDB report (I/O schema v5.3) against the rules its schema
documents, written here from that documentation: the object kinds and the
properties each may have, the required ones, id and origin patterns, the
status values, a test's number (a value, a unit, a metric or binary
prefix), paths, architectures, excerpts' length, types; and, for our own
documents, that every reference resolves, ids are unique, and a number
comes only with a status of a test that ran.
Usage: kcidb_check.py FILE [ORIGIN]   exit 0 valid, 1 not (each rule broken
printed on a line), 2 not JSON."""
import json, re, sys

ORIGIN = re.compile(r'[a-z0-9_]+\Z')
ID = re.compile(r'([a-z0-9_]+):[^\x00]*\Z')
PATH = re.compile(r'([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?\Z')
ARCH = re.compile(r'[a-z0-9_]*\Z')
SHA1 = re.compile(r'[0-9a-f]{40}\Z')
SHA256_OR_EMPTY = re.compile(r'([0-9a-f]{64})?\Z')
TIME = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z')
STATUSES = {'FAIL', 'ERROR', 'MISS', 'PASS', 'DONE', 'SKIP'}
RAN = {'FAIL', 'ERROR', 'PASS', 'DONE'}  # a number counts only with these
EXCERPT_MAX = 16384

problems = []


def bad(where, why):
    problems.append(f'{where}: {why}')


def is_str(v):
    return isinstance(v, str)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def text(where, v):  # a string without NUL
    if not is_str(v):
        return bad(where, 'not a string')
    if '\x00' in v:
        bad(where, 'holds NUL')


def excerpt(where, v):
    text(where, v)
    if is_str(v) and len(v) > EXCERPT_MAX:
        bad(where, f'{len(v)} characters, more than {EXCERPT_MAX}')


def matching(rx, what):
    def check(where, v):
        if not is_str(v) or not rx.match(v):
            bad(where, f'is not {what}: {v!r:.80}')
    return check


def typed(kind, name):
    def check(where, v):
        if not kind(v):
            bad(where, f'is not {name}')
    return check


boolean = typed(lambda v: isinstance(v, bool), 'a boolean')
number = typed(is_num, 'a number')
obj = typed(lambda v: isinstance(v, dict), 'an object')
url = matching(re.compile(r'[a-zA-Z][a-zA-Z0-9+.-]*:[^\s\x00]+\Z'), 'a URI')
time = matching(TIME, 'an RFC 3339 date-time')


def resources(where, v):
    if not isinstance(v, list):
        return bad(where, 'is not a list')
    for i, r in enumerate(v):
        fields(f'{where}[{i}]', r, {'name': matching(re.compile(r'[^/\x00]+\Z'), 'a file name'), 'url': url},
               {'name', 'url'})


def email(where, v):
    text(where, v)
    if is_str(v) and (v.count('@') != 1 or v.startswith('<') or any(c.isspace() for c in v)):
        bad(where, f'is not an address (one @, no <> or spaces): {v!r:.80}')


def status(where, v):
    if v not in STATUSES:
        bad(where, f'{v!r:.40} is not one of {sorted(STATUSES)}')


def test_number(where, v):
    fields(where, v, {'value': number, 'unit': text,
                      'prefix': matching(re.compile(r'(metric|binary)\Z'), 'metric or binary')}, {'value'})


def environment(where, v):
    fields(where, v, {'compatible': lambda w, x: [matching(re.compile(r'[^ \x00]+(,[^ \x00]+)*\Z'),
                                                          'a compatible string')(f'{w}[{i}]', c)
                                                 for i, c in enumerate(x)] if isinstance(x, list)
                      else bad(w, 'is not a list'),
                      'comment': text, 'misc': obj}, set())


COMMON = {'_timestamp': time, 'id': matching(ID, 'origin:local-id'), 'origin': matching(ORIGIN, 'an origin name'),
          'comment': text, 'misc': obj, 'log_url': url, 'log_excerpt': excerpt, 'start_time': time}
KINDS = {
    'checkouts': (dict(COMMON, tree_name=text, git_repository_url=matching(re.compile(r'https://[^\x00]*\Z'),
                                                                            'an https:// URL'),
                       git_commit_hash=matching(SHA1, 'a full sha1'), git_commit_name=text,
                       git_commit_tags=lambda w, x: [text(f'{w}[{i}]', t) for i, t in enumerate(x)]
                       if isinstance(x, list) else bad(w, 'is not a list'),
                       git_commit_message=text, git_repository_branch=text, git_repository_branch_tip=boolean,
                       patchset_files=resources, patchset_hash=matching(SHA256_OR_EMPTY, 'a sha256 or ""'),
                       message_id=email, origin_builds_finish_time=time, origin_tests_finish_time=time,
                       valid=boolean),
                  {'id', 'origin'}),
    'builds': (dict(COMMON, checkout_id=matching(ID, 'origin:local-id'), duration=number,
                    architecture=matching(ARCH, 'an architecture ([a-z0-9_]*)'), command=text, compiler=text,
                    input_files=resources, output_files=resources, config_name=text, config_url=url,
                    status=status),
               {'checkout_id', 'id', 'origin'}),
    'tests': (dict(COMMON, build_id=matching(ID, 'origin:local-id'), environment=environment,
                   path=matching(PATH, 'a dotted path of [a-zA-Z0-9_-]'), status=status, number=test_number,
                   duration=number, input_files=resources, output_files=resources),
              {'build_id', 'id', 'origin'}),
}


def fields(where, v, allowed, required):
    if not isinstance(v, dict):
        return bad(where, 'is not an object')
    for k in required - v.keys():
        bad(where, f'lacks {k}')
    for k, x in v.items():
        if k not in allowed:
            bad(where, f'has {k!r}, which the schema does not know')
        elif x is None:
            bad(f'{where}.{k}', 'is null (a missing property is left out)')
        else:
            allowed[k](f'{where}.{k}', x)


def no_nulls(where, v):  # misc is free-form, but no property can be null
    if v is None:
        bad(where, 'is null')
    elif isinstance(v, dict):
        for k, x in v.items():
            no_nulls(f'{where}.{k}', x)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            no_nulls(f'{where}[{i}]', x)


def ours(doc, origin):
    """Rules of a complete report of one origin: unique ids of that origin,
    references that resolve, numbers only where the test ran."""
    ids = {}
    for kind in KINDS:
        ids[kind] = set()
        for i, o in enumerate(doc.get(kind, [])):
            if not isinstance(o, dict):
                continue
            where = f'{kind}[{i}]'
            if o.get('origin') != origin or not str(o.get('id', '')).startswith(origin + ':'):
                bad(where, f'is not of origin {origin!r}')
            if o.get('id') in ids[kind]:
                bad(where, f'repeats the id {o.get("id")!r:.80}')
            ids[kind].add(o.get('id'))
    for kind, ref, target in (('builds', 'checkout_id', 'checkouts'), ('tests', 'build_id', 'builds')):
        for i, o in enumerate(doc.get(kind, [])):
            if isinstance(o, dict) and o.get(ref) not in ids[target]:
                bad(f'{kind}[{i}].{ref}', f'names no object of {target}: {o.get(ref)!r:.80}')
    for i, t in enumerate(doc.get('tests', [])):
        if isinstance(t, dict) and 'number' in t and t.get('status') not in RAN:
            bad(f'tests[{i}]', f'has a number with status {t.get("status")!r}: it did not run')


def check(doc, origin):
    if not isinstance(doc, dict):
        return bad('document', 'is not an object')
    fields('document', doc, {'version': lambda w, v: fields(w, v, {
        'major': lambda w, x: x == 5 and not isinstance(x, bool) or bad(w, f'is {x!r}, not 5'),
        'minor': lambda w, x: isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 3
        or bad(w, f'is {x!r}, not 0 to 3')}, {'major'}),
        **{k: lambda w, v: None for k in ('checkouts', 'builds', 'tests', 'issues', 'incidents')}}, {'version'})
    for kind, (allowed, required) in KINDS.items():
        items = doc.get(kind, [])
        if not isinstance(items, list):
            bad(kind, 'is not a list')
            continue
        for i, o in enumerate(items):
            fields(f'{kind}[{i}]', o, allowed, required)
    if doc.get('issues') or doc.get('incidents'):
        bad('document', 'holds issues or incidents, which reclaimbench does not write')
    no_nulls('document', doc)
    ours(doc, origin)


def refuse_constant(name):
    raise ValueError(f'{name} is not JSON')


if __name__ == '__main__':
    try:
        with open(sys.argv[1], encoding='utf-8', errors='strict') as f:
            doc = json.load(f, parse_constant=refuse_constant)
    except (ValueError, UnicodeDecodeError) as e:
        print(f'{sys.argv[1]}: not JSON: {e}')
        sys.exit(2)
    check(doc, sys.argv[2] if len(sys.argv) > 2 else 'reclaimbench')
    for p in problems[:20]:
        print(p)
    if len(problems) > 20:
        print(f'... and {len(problems) - 20} more')
    sys.exit(1 if problems else 0)
