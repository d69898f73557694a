#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# formats_check.py SCHEMA DIR...: every results folder under each DIR (a
# folder with a summary.json) is checked with readers that are not the
# suite's own: summary.json against SCHEMA (python3-jsonschema),
# junit.xml with Debian's python3-junitparser, and both against ktap.log
# read here, case by case: name, status, reason, duration, and a
# failure's output; tests/<name>.log too.  A folder of a run that failed
# before any test (status infrastructure) must have one failed testcase
# naming the reason.  Prints a line per folder; exit 1 if any disagrees,
# 2 on usage.
#
# Debian's python3 (the shebang): the Debian modules are installed for it
# (scripts/install_deps.sh check), whatever python3 is first in PATH.

import json
import os
import re
import sys

import jsonschema
import junitparser

RESULT = re.compile(r'^(not )?ok [0-9]+ (.*?)(?: # (.*?))?\s*$')
DURATION = re.compile(r'nx_duration_ms: ([0-9]+)')


def ktap_cases(path):
    """Top-level results: (name, status, reason, duration_ms, output)."""
    cases, out, ms, runs_ms = [], [], None, 0
    with open(path, encoding='utf-8', errors='replace', newline='') as f:
        for line in f:
            if line.startswith('#'):
                out.append(line)
                m = DURATION.search(line)
                if line.startswith('# nx_repeat: run '):
                    # One run of several ended: the case's time is all runs'.
                    runs_ms += ms or 0
                    ms = None
                elif m:
                    ms = int(m.group(1))
                continue
            m = RESULT.match(line)
            if not m:
                continue
            status = 'fail' if m.group(1) else 'pass'
            reason = m.group(3) or ''
            if status == 'pass' and reason.startswith('SKIP'):
                status = 'skip'
                reason = reason[4:].lstrip(' ')
            elif status == 'fail' and reason.startswith('FLAKY '):
                status = 'flaky'
                reason = reason[6:]
            cases.append((m.group(2), status, reason, runs_ms or ms, ''.join(out)))
            out, ms, runs_ms = [], None, 0
    return cases


def junit_cases(path):
    """(classname.name, status, message, time, failure text) per testcase."""
    cases = []
    xml = junitparser.JUnitXml.fromfile(path)
    suites = [xml] if isinstance(xml, junitparser.TestSuite) else list(xml)
    for suite in suites:
        for case in suite:
            results = case.result
            status, message, text = 'pass', '', ''
            for r in results:
                if isinstance(r, (junitparser.Failure, junitparser.Error)):
                    status = 'flaky' if r.type == 'flaky' else 'fail'
                    message, text = r.message or '', r.text or ''
                elif isinstance(r, junitparser.Skipped):
                    status, message = 'skip', r.message or ''
            has_time = case._elem.get('time') is not None
            cases.append((case.classname, case.name, status, message,
                          case.time if has_time else None, text))
    return cases


def xml_safe(s):
    """What the writer may carry of S in XML: no control characters."""
    return re.sub(r'[\x00-\x08\x0b-\x1f]', '?', s.replace('\r', '?'))


def check_folder(d, validator):
    errs = []
    with open(os.path.join(d, 'summary.json'), encoding='utf-8') as f:
        summary = json.load(f)
    errs += ['summary.json: %s at %s' % (e.message, '/'.join(map(str, e.path)))
             for e in validator.iter_errors(summary)]
    jpath = os.path.join(d, 'junit.xml')
    if not os.path.exists(jpath):
        return errs + ['no junit.xml']
    junit = junit_cases(jpath)
    run = summary.get('run', {})
    if run.get('status') == 'infrastructure':
        want = [('nx-selftests', 'infrastructure', 'fail', run.get('reason'))]
        got = [c[:4] for c in junit]
        if got != want:
            errs.append('junit.xml: expected %s, got %s' % (want, got))
        return errs
    kpath = os.path.join(d, 'ktap.log')
    if not os.path.exists(kpath):
        return errs + ['no ktap.log and not an infrastructure failure']
    ktap = ktap_cases(kpath)
    tests = summary.get('tests', [])
    if len(ktap) != len(tests) or len(ktap) != len(junit):
        errs.append('counts differ: ktap.log %d, summary.json %d, junit.xml %d'
                    % (len(ktap), len(tests), len(junit)))
    for i, (k, t, j) in enumerate(zip(ktap, tests, junit)):
        name, status, reason, ms, out = k
        where = 'case %d (%s)' % (i + 1, name)
        got = (t.get('name'), t.get('status'), t.get('reason'), t.get('duration_ms'))
        if got != (name, status, reason, ms):
            errs.append('%s: summary.json has %s, ktap.log %s'
                        % (where, got, (name, status, reason, ms)))
        jname = j[0] + '.' + j[1] if j[0] != 'nx' else j[1]
        jtime = None if ms is None else round(ms / 1000.0, 3)
        got = (jname, j[2], j[3], j[4])
        if got != (name, status, reason, jtime):
            errs.append('%s: junit.xml has %s, ktap.log %s'
                        % (where, got, (name, status, reason, jtime)))
        if status in ('fail', 'flaky') and j[5] != xml_safe(out):
            errs.append('%s: junit.xml failure text is not the case\'s output' % where)
        log = os.path.join(d, 'tests', name + '.log')
        if not os.path.exists(log):
            errs.append('%s: no tests/%s.log' % (where, name))
    return errs


def main():
    if len(sys.argv) < 3:
        print('usage: formats_check.py SCHEMA DIR...', file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding='utf-8') as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    folders = []
    for top in sys.argv[2:]:
        for d, _, files in os.walk(top):
            if 'summary.json' in files:
                folders.append(d)
    if not folders:
        print('no summary.json under %s' % ' '.join(sys.argv[2:]))
        return 1
    bad = 0
    for d in sorted(folders):
        errs = check_folder(d, validator)
        if errs:
            bad += 1
            print('FAIL %s' % d)
            for e in errs:
                print('  %s' % e)
        else:
            print('ok %s' % d)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
