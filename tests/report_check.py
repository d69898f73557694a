#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# report_check.py PAGE SHOT PLOTS FAILURES: render the report page PAGE
# (tools/nx_report.py) in headless Chromium, as a lab's browser would,
# save a screenshot to SHOT, and check what was rendered:
#   - the DOM after rendering has PLOTS plots, each a matplotlib SVG
#     figure, and FAILURES grid cells marked fail or flaky;
#   - the screenshot shows them: pixels of the failure highlight and of
#     the plots' first line colour (matplotlib's tab:blue, which nothing
#     else on the page uses; tab:orange, the second, is counted too).
# Prints what it saw (the page's and the screenshot's size, the counts);
# exit 1 if anything is missing, 2 on usage or if Chromium fails.
#
# Debian's chromium and python3-matplotlib, with its numpy
# (scripts/install_deps.sh check).

import os
import re
import subprocess
import sys
import tempfile

import matplotlib.image
import numpy

FAIL_RGB = (0xcc, 0x00, 0x00)      # td.fail in nx_report.py's style (no plot colour)
LINE_RGB = {'tab:blue': (0x1f, 0x77, 0xb4), 'tab:orange': (0xff, 0x7f, 0x0e)}
WIDTH, HEIGHT = 1400, 2600
TIMEOUT_S = 90


def chromium(page, profile, *args):
    cmd = ['timeout', str(TIMEOUT_S), 'chromium', '--headless=new',
           '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
           '--user-data-dir=' + profile,
           '--window-size=%d,%d' % (WIDTH, HEIGHT), *args,
           'file://' + os.path.abspath(page)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode:
        print('chromium exited %d: %s' % (r.returncode, r.stderr[-2000:]))
        sys.exit(2)
    return r.stdout


def pixels(img, rgb):
    want = numpy.array(rgb) / 255.0
    return int((numpy.abs(img[:, :, :3] - want) < 0.02).all(axis=2).sum())


def main():
    if len(sys.argv) != 5:
        print('usage: report_check.py PAGE SHOT PLOTS FAILURES', file=sys.stderr)
        return 2
    page, shot = sys.argv[1], sys.argv[2]
    want_plots, want_fail = int(sys.argv[3]), int(sys.argv[4])
    bad = 0
    with tempfile.TemporaryDirectory() as profile:
        dom = chromium(page, profile, '--dump-dom')
        chromium(page, profile, '--screenshot=' + os.path.abspath(shot))
    plots = re.findall(r'<div class="plot"[^>]*>\s*<svg[^>]*>.*?<g id="figure_1">',
                       dom, re.S)
    fails = re.findall(r'<td class="(?:fail|flaky)"', dom)
    print('page %s: %d bytes; screenshot %s: %d bytes, %dx%d'
          % (page, os.path.getsize(page), shot, os.path.getsize(shot), WIDTH, HEIGHT))
    print('rendered DOM: %d plots (matplotlib SVG figures), %d failed or flaky grid cells'
          % (len(plots), len(fails)))
    if len(plots) != want_plots:
        print('expected %d plots' % want_plots)
        bad = 1
    if len(fails) != want_fail:
        print('expected %d failed or flaky cells' % want_fail)
        bad = 1
    img = matplotlib.image.imread(shot)
    red = pixels(img, FAIL_RGB)
    print('screenshot: %d pixels of the failure highlight' % red)
    if want_fail and red < 200 * want_fail:
        print('the failures are not highlighted on screen')
        bad = 1
    for name, rgb in LINE_RGB.items():
        n = pixels(img, rgb)
        print('screenshot: %d pixels of the plots\' %s lines' % (n, name))
        # Every plot's first line is tab:blue; a second kernel or mode
        # (tab:orange) only where the runs have one.
        if want_plots and name == 'tab:blue' and n < 500:
            print('no plot lines on screen')
            bad = 1
    return bad


if __name__ == '__main__':
    sys.exit(main())
