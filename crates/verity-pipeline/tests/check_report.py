#!/usr/bin/env python3
"""Render `verity report` output in a real headless browser and check it.

Usage (from the repository root, after `cargo build -p verity-cli`):

    python3 crates/verity-pipeline/tests/check_report.py [--verity target/debug/verity] [--chromium chromium]

Runs `verity run recipes/rlvr_prompts.toml` into a temporary directory (the recipe with
verify, score, select, dedup and decontam stages, so every plot has data), then loads
report.html in headless Chromium (`--dump-dom`, console logged to stderr) and asserts:

- the page rendered (the DOM after load has the title and every section: funnel, time,
  lengths, bands, sources, duplicates, contamination, verdicts, card);
- the plots are there: an inline <svg> with bars in each figure that has data (funnel, time,
  character and token histograms, pass-rate bands, sources, contamination, verdicts), and the
  duplicate plot says why it is empty instead of drawing nothing;
- no console messages at all (errors or otherwise) and no reference to any network or file
  resource (no src/href/url() to anything; the page is self-contained).

Skips (exit 0 with a message) when Chromium is not installed: `apt-get install -y chromium`.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SECTIONS = ["funnel", "time", "lengths", "bands", "sources", "duplicates", "contamination", "verdicts", "card"]
PLOTS_WITH_DATA = ["funnel", "time", "chars", "tokens", "problems", "bands", "sources", "contamination", "verdicts"]


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []
        self.sections = set()
        self.figures = {}  # id -> {"svg": n, "rect": n, "missing": text}
        self.current_figure = None
        self.resources = []
        self.title = ""
        self._in_title = False
        self._in_missing = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "id" in a:
            self.sections.add(a["id"])
        if tag == "figure" and a.get("id", "").startswith("plot-"):
            self.current_figure = a["id"][5:]
            self.figures[self.current_figure] = {"svg": 0, "rect": 0, "missing": ""}
        if self.current_figure:
            if tag == "svg":
                self.figures[self.current_figure]["svg"] += 1
            if tag == "rect":
                self.figures[self.current_figure]["rect"] += 1
            if tag == "p" and "missing" in a.get("class", ""):
                self._in_missing = True
        for k in ("src", "href", "srcset", "action", "data"):
            if k in a and not (k == "href" and a[k].startswith("#")):
                self.resources.append(f"<{tag} {k}={a[k]!r}>")
        if "style" in a and "url(" in a["style"]:
            self.resources.append(f"<{tag} style=url(...)>")
        if tag in ("link", "script", "iframe", "img", "object", "embed"):
            self.resources.append(f"<{tag}>")
        if tag == "title" and not self.stack:
            pass
        if tag == "title":
            self._in_title = True
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "figure":
            self.current_figure = None
        if tag == "title":
            self._in_title = False
        if tag == "p":
            self._in_missing = False
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self._in_title and not self.title:
            self.title = data
        if self._in_missing and self.current_figure:
            self.figures[self.current_figure]["missing"] += data


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verity", default=os.path.join(ROOT, "target", "debug", "verity"))
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    args = ap.parse_args()
    if not shutil.which(args.chromium) and not os.path.exists(args.chromium):
        print("SKIP: chromium not installed (apt-get install -y chromium)")
        return 0
    if not os.path.exists(args.verity):
        fail(f"{args.verity} not found; run `cargo build -p verity-cli` first")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        recipe = os.path.join(ROOT, "recipes", "rlvr_prompts.toml")
        r = subprocess.run([args.verity, "-q", "run", recipe, "--out", out], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"verity run failed:\n{r.stderr}")
        report = os.path.join(out, "report.html")
        # `verity report` must reproduce the page the run wrote
        again = os.path.join(tmp, "again.html")
        r = subprocess.run([args.verity, "-q", "report", out, "-o", again], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"verity report failed:\n{r.stderr}")
        for page in (report, again):
            cmd = [
                args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--enable-logging=stderr", "--v=0", f"--user-data-dir={os.path.join(tmp, 'profile')}",
                "--dump-dom", "file://" + page,
            ]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if r.returncode != 0 or not r.stdout.strip():
                fail(f"chromium did not render {page}: exit {r.returncode}\n{r.stderr[-2000:]}")
            console = [l for l in r.stderr.splitlines() if ":CONSOLE" in l or "Uncaught" in l]
            if console:
                fail("console messages:\n" + "\n".join(console))
            dom = Dom()
            dom.feed(r.stdout)
            if not dom.title.startswith("verity report"):
                fail(f"title is {dom.title!r}")
            missing = [s for s in SECTIONS if s not in dom.sections]
            if missing:
                fail(f"sections missing from the rendered DOM: {missing}")
            for plot in PLOTS_WITH_DATA:
                f = dom.figures.get(plot)
                if not f or f["svg"] != 1 or f["rect"] < 1:
                    fail(f"plot {plot!r} has no rendered bars: {f}")
            dup = dom.figures.get("duplicates")
            if not dup or (dup["svg"] == 0 and not dup["missing"].strip()):
                fail("the duplicate-cluster plot is neither drawn nor explained")
            if dom.resources:
                fail(f"the page references external resources: {dom.resources[:5]}")
            if re.search(r"url\(|@import", r.stdout):
                fail("the page loads something through CSS (url() or @import)")
            print(f"ok {os.path.basename(page)}: {len(dom.sections)} sections, "
                  f"{sum(f['svg'] for f in dom.figures.values())} svg plots, "
                  f"{sum(f['rect'] for f in dom.figures.values())} bars, no console messages, no external resources")
    print("report renders in headless Chromium")
    return 0


if __name__ == "__main__":
    sys.exit(main())
