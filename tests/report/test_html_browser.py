"""report.html in headless Chromium: no console output at all, the Pareto plot laid out with its
markers, the sort script working, and a screenshot that is not blank."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from nas.report import write_report


def _browser():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "nas_test_browser", Path(__file__).resolve().parent / "browser.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


browser = _browser()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(built_run, tmp_path_factory) -> Path:
    run = shutil.copytree(built_run, tmp_path_factory.mktemp("html") / "fixture")
    return write_report(run)


def test_console_errors_are_detected(chromium, tmp_path) -> None:
    """The negative control: the console capture does see errors."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><html><body><script>console.error('boom');"
                   "noSuchFunction();</script></body></html>")
    _, console = browser.dump_dom(chromium, bad)
    assert any("boom" in c for c in console)
    assert any("noSuchFunction" in c for c in console)


def test_report_opens_without_console_output(chromium, page) -> None:
    dom, console = browser.dump_dom(chromium, page)
    assert console == []
    assert '<figure id="pareto-plot"><svg' in dom.replace("\n", "")
    assert dom.count("<section") == 8


def test_pareto_plot_is_rendered_and_table_sorts(chromium, page, tmp_path) -> None:
    probed = browser.probed_copy(page, tmp_path / "probed.html")
    dom, console = browser.dump_dom(chromium, probed)
    assert console == []
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert 'data-probe-done="1"' in body and "data-probe-error" not in body
    figures = dict(f.split(":", 1) for f in
                   re.search(r'data-probe-figures="([^"]*)"', body).group(1).split(";"))
    size, marks = figures["pareto-plot"].split(":")
    w, h = (int(v) for v in size.split("x"))
    assert w > 400 and h > 200 and int(marks) > 30  # axes, lines and one marker per trial
    for fig_id, spec in figures.items():
        assert not spec.startswith("none") and not spec.startswith("0x"), fig_id
    sorted_vals = [float(v) for v in re.search(r'data-probe-sorted="([^"]*)"', body).group(1)
                   .split(",")]
    assert sorted_vals == sorted(sorted_vals, reverse=True)  # two clicks: descending mIoU


def test_screenshot(chromium, page, tmp_path) -> None:
    from PIL import Image

    shot = browser.screenshot(chromium, page, tmp_path / "report.png")
    assert shot.is_file()
    with Image.open(shot) as im:
        rgb = im.convert("RGB").resize((140, 500))
        colours = len(rgb.getcolors(maxcolors=1 << 20) or [])
    assert colours > 50  # a page with plots, not a blank canvas
