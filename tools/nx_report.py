#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# nx_report.py RESULTS_ROOT OUT.html: one static HTML page (no server, no
# script, plots inline) over every run under RESULTS_ROOT, for a nightly
# lab:
#   - a table of runs: date, kernel, MMU mode, status, counts;
#   - a status grid, tests against runs, failures and flakes highlighted;
#   - a plot per metric across runs, one line per kernel and MMU mode
#     (matplotlib; a case run with --repeat has its min..max as a bar).
#
# It reads only summary.json, the published format
# (docs/summary.schema.json): nx_summary stays the one reader of ktap.log.
# A run is a results folder with a summary.json; its date is the
# <UTC time> of its folder or of its matrix run's.  Exit 0, 1 if there is
# no summary.json under RESULTS_ROOT, 2 on usage.
#
# Debian's python3 (the shebang) has Debian's python3-matplotlib
# (scripts/install_deps.sh check).

import html
import io
import json
import os
import re
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402 (the backend comes first)

STAMP = re.compile(r'^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z')
STATUSES = ('pass', 'fail', 'skip', 'flaky')


def run_date(rel):
    """'2026-12-06 02:19:21Z' from the nearest <UTC time> folder of REL."""
    for part in reversed(rel.split(os.sep)):
        m = STAMP.match(part)
        if m:
            y, mo, d, h, mi, s = m.groups()
            return '%s-%s-%s %s:%s:%sZ' % (y, mo, d, h, mi, s)
    return ''


def load_runs(root):
    runs = []
    for d, _, files in os.walk(root):
        if 'summary.json' not in files:
            continue
        with open(os.path.join(d, 'summary.json'), encoding='utf-8') as f:
            s = json.load(f)
        rel = os.path.relpath(d, root)
        r = s.get('run', {})
        runs.append({
            'dir': d, 'rel': rel, 'date': run_date(os.path.abspath(d)),
            'kernel': r.get('kernel_release', '?'),
            'mmu': r.get('mmu', 'host' if r.get('mode') == 'host' else '-'),
            'status': r.get('status', '?'), 'reason': r.get('reason', ''),
            'tests': {t['name']: t for t in s.get('tests', [])},
            'order': [t['name'] for t in s.get('tests', [])],
        })
    runs.sort(key=lambda x: (x['date'], x['rel']))
    return runs


def counts(run):
    c = dict.fromkeys(STATUSES, 0)
    for t in run['tests'].values():
        c[t['status']] = c.get(t['status'], 0) + 1
    return c


def runs_table(runs, out_dir):
    rows = []
    for i, r in enumerate(runs):
        c = counts(r)
        link = os.path.relpath(os.path.join(r['dir'], 'summary.json'), out_dir)
        status = r['status'] + (': ' + r['reason'] if r['reason'] else '')
        rows.append(
            '<tr class="run-%s"><td>%d</td><td>%s</td><td>%s</td><td>%s</td>'
            '<td class="st-%s">%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>'
            '<td><a href="%s">%s</a></td></tr>'
            % (html.escape(r['status']), i + 1, html.escape(r['date']),
               html.escape(r['kernel']), html.escape(r['mmu']),
               html.escape(r['status']), html.escape(status), c['pass'],
               c['fail'], c['skip'], c['flaky'], html.escape(link),
               html.escape(r['rel'])))
    return ('<table class="runs"><tr><th>#</th><th>date (UTC)</th><th>kernel</th>'
            '<th>MMU</th><th>status</th><th>pass</th><th>fail</th><th>skip</th>'
            '<th>flaky</th><th>results</th></tr>\n%s\n</table>' % '\n'.join(rows))


def test_names(runs):
    names = []
    for r in runs:
        for n in r['order']:
            if n not in names:
                names.append(n)
    return names


def status_grid(runs, names):
    head = ''.join('<th title="%s">%d</th>' % (html.escape(
        '%s %s %s' % (r['date'], r['kernel'], r['mmu'])), i + 1)
        for i, r in enumerate(runs))
    rows = []
    for n in names:
        cells = []
        for r in runs:
            t = r['tests'].get(n)
            if not t:
                cells.append('<td class="none">-</td>')
                continue
            cells.append('<td class="%s" title="%s">%s</td>' % (
                t['status'], html.escape(t.get('reason', '')),
                t['status'].upper()))
        rows.append('<tr><th class="name">%s</th>%s</tr>'
                    % (html.escape(n), ''.join(cells)))
    return ('<table class="grid"><tr><th class="name">test \\ run</th>%s</tr>\n%s\n</table>'
            % (head, '\n'.join(rows)))


def metric_series(runs):
    """{(test, metric): {'unit': u, 'series': {(kernel, mmu): [(x, v, lo, hi)]}}}"""
    plots = {}
    for x, r in enumerate(runs):
        for n in r['order']:
            for m, v in r['tests'][n].get('metrics', {}).items():
                if v.get('value') is None:
                    continue
                p = plots.setdefault((n, m), {'unit': v.get('unit', ''), 'series': {}})
                lo = v.get('min', v['value'])
                hi = v.get('max', v['value'])
                p['series'].setdefault((r['kernel'], r['mmu']), []).append(
                    (x + 1, v['value'], lo if lo is not None else v['value'],
                     hi if hi is not None else v['value']))
    return plots


def plot_svg(key, p, nruns):
    fig, ax = plt.subplots(figsize=(5.2, 2.6), dpi=100)
    for (kernel, mmu), pts in sorted(p['series'].items()):
        xs = [q[0] for q in pts]
        ys = [q[1] for q in pts]
        err = [[q[1] - q[2] for q in pts], [q[3] - q[1] for q in pts]]
        ax.errorbar(xs, ys, yerr=err, marker='o', capsize=3, linewidth=1.5,
                    label='%s %s' % (kernel, mmu))
    ax.set_title('%s\n%s' % key, fontsize=8)
    ax.set_xlabel('run', fontsize=8)
    ax.set_ylabel(p['unit'], fontsize=8)
    ax.set_xlim(0.5, nruns + 0.5)
    ax.set_xticks(range(1, nruns + 1))
    ax.tick_params(labelsize=7)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=6, loc='best')
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format='svg')
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index('<svg'):]


STYLE = '''
body { font-family: sans-serif; font-size: 13px; margin: 1em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
td, th { border: 1px solid #bbb; padding: 2px 6px; }
th.name { text-align: left; font-weight: normal; font-family: monospace; }
.grid td { text-align: center; font-size: 11px; min-width: 3em; }
td.pass { background: #c7e9c0; }
td.skip { background: #e0e0e0; }
td.fail, td.st-failed, td.st-infrastructure { background: #cc0000; color: #fff; font-weight: bold; }
td.flaky { background: #b8860b; color: #fff; font-weight: bold; }
td.none { color: #999; }
.plots { display: flex; flex-wrap: wrap; }
.plot { margin: 4px; border: 1px solid #ddd; }
'''


def page(root, runs, out_dir):
    names = test_names(runs)
    plots = metric_series(runs)
    figs = ''.join('<div class="plot" data-test="%s" data-metric="%s">%s</div>\n'
                   % (html.escape(k[0]), html.escape(k[1]), plot_svg(k, p, len(runs)))
                   for k, p in sorted(plots.items()))
    nfail = sum(counts(r)['fail'] + counts(r)['flaky'] for r in runs)
    return '''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>nx-selftests: %d runs</title>
<style>%s</style></head>
<body>
<h1>nx-selftests: %d runs under %s</h1>
<p>%d tests, %d failed or flaky results. Each run is a results folder
(one kernel under one MMU mode); its summary.json is linked.</p>
<h2>Runs</h2>
%s
<h2>Status of each test in each run</h2>
%s
<h2>Metrics across runs, by kernel and MMU mode</h2>
<p>%d plots; a bar is a repeated case's min..max (--repeat).</p>
<div class="plots">
%s</div>
</body></html>
''' % (len(runs), STYLE, len(runs), html.escape(root), len(names), nfail,
       runs_table(runs, out_dir), status_grid(runs, names), len(plots), figs)


def main():
    if len(sys.argv) != 3:
        print('usage: nx_report.py RESULTS_ROOT OUT.html', file=sys.stderr)
        return 2
    root, out = sys.argv[1], sys.argv[2]
    runs = load_runs(root)
    if not runs:
        print('nx_report: no summary.json under %s' % root, file=sys.stderr)
        return 1
    text = page(root, runs, os.path.dirname(os.path.abspath(out)))
    with open(out, 'w', encoding='utf-8') as f:
        f.write(text)
    print('nx_report: %d runs, %d tests, %d plots: %s (%d bytes)'
          % (len(runs), len(test_names(runs)), len(metric_series(runs)), out,
             len(text.encode('utf-8'))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
