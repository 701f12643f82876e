"""The report as a person sees it: opened in headless Chromium, no broken image, the table there, and a
screenshot to look at. Marker `browser`: runs wherever Chromium is installed (Debian's chromium
package), skipped elsewhere."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Run in the page once it has loaded: how many images, how many did not render, how many tables.
PROBE = ("<script>window.addEventListener('load', () => { const images = [...document.images];\n"
         "document.body.setAttribute('data-probe', JSON.stringify({images: images.length, "
         "tables: document.querySelectorAll('table').length,\n"
         "broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).length})); });</script>")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install chromium)")
@pytest.mark.e2e
def test_the_report_renders_in_a_browser(demo_run, tmp_path):
    page = (demo_run / "results/demo/report/report.html").read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"))
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    probe = json.loads(re.search(r'data-probe="([^"]*)"', dom).group(1).replace("&quot;", '"'))
    assert probe["images"] == 4 and probe["broken"] == 0 and probe["tables"] >= 2
    shot = Path(os.environ.get("FINECLIPPER_SCREENSHOT_DIR", tmp_path)) / "report.png"
    subprocess.run([*common, "--window-size=1200,3000", f"--screenshot={shot}", probed.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 50_000
