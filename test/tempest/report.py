#!/usr/bin/python3
"""Failing and skipped tests of a tempest.sh run, with what v6stack answered, as Markdown for docs/tempest.md.

  report.py OUT_DIR      (the workspace tempest.sh printed: OUT_DIR/results.tsv and OUT_DIR/ws/tempest.log)

For each failing test: its reason (the assertion or the exception Tempest raised) and every request of that test that
v6stack answered with a status >= 400 (Tempest logs `Request (Class:test): STATUS METHOD URL`). Skips are grouped by
their reason with a count, since a whole class is skipped for one missing extension.
"""
import collections
import re
import sys

out = sys.argv[1]
results = [l.rstrip('\n').split('\t') for l in open(f'{out}/results.tsv')]
requests = collections.defaultdict(list)
pattern = re.compile(r'Request \((\w+):(\w+)\): (\d{3}) (\w+) (\S+)')
for line in open(f'{out}/ws/tempest.log', errors='replace'):
    m = pattern.search(line)
    if m and int(m.group(3)) >= 400:
        cls, test, status, method, url = m.groups()
        url = re.sub(r'^https?://[^/]+', '', url)
        url = re.sub(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '{id}', url)
        entry = f'{status} {method} {url}'
        if entry not in requests[(cls, test)]:
            requests[(cls, test)].append(entry)

counts = collections.Counter(r[0] for r in results)
print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped ({len(results)} run)\n")
print('### Failing\n')
for status, test_id, reason in results:
    if status != 'fail':
        continue
    m = re.match(r'setUpClass \((.*)\.(\w+)\)', test_id)
    cls, test = (m.group(2), 'setUpClass') if m else tuple(test_id.rsplit('.', 2)[1:])
    print(f'- `{test_id}`')
    print(f'  - reason: {reason}')
    for entry in requests.get((cls, test), [])[:6]:
        print(f'  - v6stack: `{entry}`')
print('\n### Skipped, by reason\n')
skips = collections.defaultdict(list)
for status, test_id, reason in results:
    if status == 'skip':
        skips[reason].append(test_id)
for reason, ids in sorted(skips.items(), key=lambda kv: -len(kv[1])):
    classes = sorted({re.sub(r'\.test_\w+$', '', re.sub(r'^setUpClass \((.*)\)$', r'\1', t)) for t in ids})
    print(f'- {len(ids)} × "{reason}": ' + ', '.join(f'`{c}`' for c in classes))
