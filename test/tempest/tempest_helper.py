#!/usr/bin/python3
"""The small pieces of scripts/tempest.sh that are easier in Python than in shell.

  catalog   AUTH_URL PASSWORD REGION NETWORK_URL   register (or re-point) the `network` service's endpoints
  summarize SUBUNIT_FILE                           one line per test: STATUS<TAB>TEST_ID<TAB>REASON
  compare   RESULTS_TSV EXPECTED_FAILURES          counts, failing ids, new failures, fixed ones; exit 1 on new

Test ids are compared without Tempest's attribute suffix (`[id-…,smoke]`), so an expected-failures line is the
dotted path of the test (or `setUpClass (module.Class)` for a class that failed to set up).
"""
import json
import re
import sys
import urllib.request


def _request(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header('Content-Type', 'application/json')
    if token:
        req.add_header('X-Auth-Token', token)
    # uwsgi with one worker resets a connection now and then (shared notes): retry a few times.
    last = None
    for _ in range(5):
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return resp.headers, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError:
            raise
        except OSError as e:  # connection reset / refused while keystone warms up
            last = e
            import time
            time.sleep(1)
    raise last


def catalog(auth_url, password, region, network_url):
    """The `network` service with public, internal and admin endpoints at NETWORK_URL in REGION, nothing else."""
    auth = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'admin', 'domain': {'id': 'default'}, 'password': password}}},
        'scope': {'project': {'name': 'admin', 'domain': {'id': 'default'}}}}}
    headers, _ = _request('POST', f'{auth_url}/auth/tokens', body=auth)
    token = headers['X-Subject-Token']
    _, services = _request('GET', f'{auth_url}/services?type=network', token)
    if services['services']:
        service_id = services['services'][0]['id']
    else:
        _, created = _request('POST', f'{auth_url}/services', token,
                              {'service': {'type': 'network', 'name': 'neutron', 'enabled': True}})
        service_id = created['service']['id']
    _, endpoints = _request('GET', f'{auth_url}/endpoints?service_id={service_id}', token)
    for ep in endpoints['endpoints']:
        if ep.get('region_id') == region and ep['url'] == network_url:
            continue
        if ep.get('region_id') == region:
            _request('DELETE', f"{auth_url}/endpoints/{ep['id']}", token)
    have = {ep['interface'] for ep in endpoints['endpoints']
            if ep.get('region_id') == region and ep['url'] == network_url}
    for interface in ('public', 'internal', 'admin'):
        if interface not in have:
            _request('POST', f'{auth_url}/endpoints', token, {'endpoint': {
                'service_id': service_id, 'interface': interface, 'region_id': region, 'url': network_url}})
    print(f'network service {service_id} at {network_url} in {region}')


ATTRS = re.compile(r'\[[^\]]*\]$')


def plain_id(test_id):
    return ATTRS.sub('', test_id.strip())


def summarize(path):
    import subunit
    import testtools

    results = {}

    def on_test(test):
        status = test['status']
        if status in ('exists', 'inprogress'):
            return
        reason = ''
        details = test.get('details') or {}
        if 'reason' in details:
            reason = details['reason'].as_text()
        elif status == 'fail':
            tb = details.get('traceback')
            text = tb.as_text() if tb is not None else ''
            # The last line that names an exception is what a reader needs first.
            lines = [l.strip() for l in text.splitlines() if l.strip()]
            for l in reversed(lines):
                if re.match(r'^[\w.]+(Error|Exception|Conflict|NotFound|BadRequest|Forbidden|Unauthorized|Failure|Failed|Timeout)\b', l) or 'Details:' in l:
                    reason = l
                    break
            if not reason and lines:
                reason = lines[-1]
            # assertRaises whose call succeeded: say which error was expected rather than print the whole body.
            if re.search(r'MismatchError: .* returned ', reason):
                wanted = next((re.sub(r'.*assertRaises\(\s*', '', l).rstrip(',')
                               for l in lines if 'assertRaises(' in l), 'an error')
                body = reason.split(' returned ', 1)[1]
                reason = f'expected {wanted}, the call succeeded: {body[:160]}'
        results[plain_id(test['id'])] = (status, ' '.join(reason.split())[:400])

    with open(path, 'rb') as f:
        stream = subunit.ByteStreamToStreamResult(f, non_subunit_name='stdout')
        result = testtools.StreamToDict(on_test)
        result.startTestRun()
        try:
            stream.run(result)
        finally:
            result.stopTestRun()
    for test_id in sorted(results):
        status, reason = results[test_id]
        status = {'success': 'pass', 'xfail': 'pass', 'uxsuccess': 'fail', 'skip': 'skip'}.get(status, status)
        print(f'{status}\t{test_id}\t{reason}')


def read_expected(path):
    expected = {}
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                expected[plain_id(line)] = True
    return expected


def compare(results_path, expected_path):
    counts = {'pass': 0, 'fail': 0, 'skip': 0}
    failing, skipped, passing = [], [], set()
    with open(results_path) as f:
        for line in f:
            status, test_id, reason = (line.rstrip('\n').split('\t') + ['', ''])[:3]
            counts[status] = counts.get(status, 0) + 1
            if status == 'fail':
                failing.append((test_id, reason))
            elif status == 'skip':
                skipped.append((test_id, reason))
            elif status == 'pass':
                passing.add(test_id)
    expected = read_expected(expected_path)
    new = [(t, r) for t, r in failing if t not in expected]
    fixed = sorted(t for t in passing if t in expected)
    print(f"tempest: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped "
          f"({sum(counts.values())} run)")
    for t, r in failing:
        mark = 'NEW ' if t not in expected else 'expected '
        print(f'  {mark}FAIL {t}  -- {r}')
    if skipped:
        print(f'  skipped: {len(skipped)} (reasons in the results file)')
    for t in fixed:
        print(f'  FIXED (passes now; remove from {expected_path}): {t}')
    if new:
        print(f'tempest: {len(new)} NEW failure(s) not in {expected_path}')
        return 1
    print(f'tempest: no new failures ({len(failing)} expected, {len(fixed)} fixed)')
    return 0


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'catalog':
        catalog(*args)
    elif cmd == 'summarize':
        summarize(*args)
    elif cmd == 'compare':
        sys.exit(compare(*args))
    else:
        sys.exit(f'unknown command {cmd}')
