"""The documentation site: built strictly, then opened page by page in a real browser.

The browser is Debian's ``chromium`` driven headless by Playwright. Where it is not
installed the browser tests skip, except when ``FOLDRACE_REQUIRE_BROWSER=1`` (as CI sets
it, after installing chromium), where its absence fails them.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from conftest import extra

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """``mkdocs build --strict`` into a temporary directory."""
    extra("mkdocs", "docs")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_site_builds_strictly_with_included_code(site):
    page = (site / "tutorials" / "01-serial" / "index.html").read_text()
    assert "make_classification" in page  # included from tutorials/01_serial.py
    assert "--8&lt;--" not in page  # no snippet line left unexpanded
    table = (site / "reference" / "executors" / "index.html").read_text()
    from foldrace import EXECUTORS

    for name in EXECUTORS:  # the table is generated from the registry
        assert f"<code>{name}</code>" in table


def test_the_choose_page_links_its_answers_to_the_tutorials_that_measure_them(site):
    page = site / "how-to" / "choose" / "index.html"
    html = page.read_text()
    article = html.split("<article", 1)[1].split("</article>", 1)[0]  # the page, not the nav
    here = "http://site/how-to/choose/"
    tutorials: set[str] = set()
    broken: list[str] = []
    for href in re.findall(r'<a [^>]*href="([^"]+)"', article):
        target = urlparse(urljoin(here, href))
        if target.netloc != "site":
            continue
        file = site / target.path.lstrip("/")
        file = file / "index.html" if target.path.endswith("/") else file
        anchor = f'id="{target.fragment}"'
        if not file.is_file() or (target.fragment and anchor not in file.read_text()):
            broken.append(href)
        elif target.path.startswith("/tutorials/"):
            tutorials.add(target.path)
    assert not broken, broken  # mkdocs --strict does not check anchors
    assert len(tutorials) >= 6, sorted(tutorials)


@pytest.fixture(scope="module")
def base_url(site):
    """Serve the built site on 127.0.0.1 on a free port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        if os.environ.get("FOLDRACE_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required here: apt-get install chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    extra("playwright", "browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def _pages(site: Path) -> list[str]:
    return sorted(
        str(path.relative_to(site).parent).replace(".", "") + "/"
        for path in site.rglob("index.html")
    )


def test_every_page_renders_loads_its_images_and_links_resolve(site, base_url, browser):
    pages = _pages(site)
    assert len(pages) >= 14, pages
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    internal: set[str] = set()
    for path in pages:
        url = urljoin(base_url, path.lstrip("/"))
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console", lambda msg, e=errors: e.append(msg.text) if msg.type == "error" else None
        )
        page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
        response = page.goto(url, wait_until="load")
        assert response is not None, url
        assert response.ok, f"{url}: {response.status}"
        page.wait_for_load_state("networkidle")
        problems += [f"{path}: console error {text}" for text in errors]
        images = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => [i.src, i.complete && i.naturalWidth > 0])"
        )
        problems += [f"{path}: image did not load: {src}" for src, ok in images if not ok]
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            target = urlparse(href)
            if target.netloc == urlparse(base_url).netloc:
                internal.add(href.split("#")[0])
        if path == "/":
            assert images, "the home page shows the speedup figure"
        page.close()
    request = context.request
    for href in sorted(internal):
        status = request.get(href).status
        if status != 200:
            problems.append(f"broken internal link: {href} ({status})")
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("path", "name"), [("", "home.png"), ("tutorials/02-apply/", "tutorial-02.png")]
)
def test_screenshots(base_url, browser, path, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(urljoin(base_url, path), wait_until="networkidle")
    assert "foldrace" in page.title()
    assert page.locator("h1").count() >= 1
    target = SCREENSHOTS / name
    page.screenshot(path=str(target), full_page=True)
    page.close()
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_the_api_page_shows_no_raw_sphinx_roles_and_public_names(site):
    page = (site / "reference" / "api" / "index.html").read_text()
    for role in (":func:", ":meth:", ":class:", ":attr:", ":mod:", ":data:"):
        assert role not in page
    assert 'id="foldrace.race"' in page  # the public name, not foldrace.harness.race
    assert "<code>RaceResult.read</code>" in page  # a role, shown as code


def test_every_tutorial_page_offers_its_notebook_for_download(site, base_url, browser):
    import nbformat

    tutorials = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
    pages = sorted((site / "tutorials").glob("[0-9][0-9]-*/index.html"))
    assert len(pages) == len(tutorials)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    for script, html in zip(tutorials, pages, strict=True):
        page.goto(urljoin(base_url, f"tutorials/{html.parent.name}/"), wait_until="load")
        with page.expect_download() as started:
            page.get_by_role("link", name="Download as a notebook").click()
        download = started.value
        assert download.suggested_filename == f"{script.stem}.ipynb"
        notebook = nbformat.reads(Path(download.path()).read_text(), as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3"
        assert notebook.cells[0].cell_type == "markdown"
        assert notebook.cells[0].source.startswith(f"# Tutorial {script.name[:2]}")
        code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
        after_intro = script.read_text().split("\n# %%\n", 1)[1]  # the code, cell markers apart
        assert _lines(code) == _lines(after_intro.replace("# %%\n", "")), script.name
    context.close()


def _lines(code: str) -> list[str]:
    return [line for line in code.splitlines() if line.strip()]
