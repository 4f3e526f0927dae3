"""Headless Chromium for the report tests: load a page, return its DOM after scripts ran and
every console line it printed, and take screenshots. Loaded with ``load_helper("browser")``."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
          "--no-first-run", "--disable-extensions", "--disable-background-networking"]
CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)")

# appended to a copy of the page: records uncaught errors and the laid-out size of every plot
# in the DOM, and clicks a sortable header twice so the sort script runs
PROBE = """<script>
window.addEventListener("error", function (e) {
  document.body.setAttribute("data-probe-error", String(e.message || e));
}, true);
window.addEventListener("load", function () {
  var out = [];
  document.querySelectorAll("figure").forEach(function (f) {
    var s = f.querySelector("svg"), r = s ? s.getBoundingClientRect() : null;
    out.push(f.id + ":" + (r ? Math.round(r.width) + "x" + Math.round(r.height) : "none") + ":"
             + (s ? s.querySelectorAll("path,use").length : 0));
  });
  document.body.setAttribute("data-probe-figures", out.join(";"));
  var th = document.querySelector("#front-table th:nth-child(3)");
  if (th) {
    th.click(); th.click();
    var cells = document.querySelectorAll("#front-table tbody tr td:nth-child(3)");
    document.body.setAttribute("data-probe-sorted", Array.prototype.map.call(cells,
      function (c) { return c.getAttribute("data-v"); }).join(","));
  }
  document.body.setAttribute("data-probe-done", "1");
});
</script>"""


def find_chromium() -> str | None:
    for name in _NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def works(binary: str) -> bool:
    try:
        r = subprocess.run([binary, *_FLAGS, "--dump-dom", "about:blank"], capture_output=True,
                           text=True, timeout=90)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and "<html" in r.stdout


def dump_dom(binary: str, page: Path) -> tuple[str, list[str]]:
    """(the serialised DOM after load, the console lines Chromium logged)."""
    r = subprocess.run([binary, *_FLAGS, "--enable-logging=stderr", "--v=0",
                        "--virtual-time-budget=5000", "--dump-dom", page.resolve().as_uri()],
                       capture_output=True, text=True, timeout=120)
    console = [m.group(1) for m in CONSOLE.finditer(r.stderr)]
    return r.stdout, console


def screenshot(binary: str, page: Path, out: Path, size: str = "1400,5000") -> Path:
    subprocess.run([binary, *_FLAGS, f"--window-size={size}", f"--screenshot={out}",
                    "--virtual-time-budget=5000", page.resolve().as_uri()],
                   capture_output=True, text=True, timeout=120, check=False)
    return out


def probed_copy(page: Path, dest: Path) -> Path:
    """A copy of ``page`` with :data:`PROBE` before ``</body>``."""
    html = page.read_text(encoding="utf-8")
    dest.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    return dest
