"""The explain page in a real browser: headless Chromium driven by Selenium.

Needs ``chromium`` and ``chromedriver`` (``sh scripts/ensure-browser`` installs them; ``make
test`` runs it) and Graphviz's ``dot``; the module is skipped, saying which is missing,
without them. One browser serves the whole module. With ``UPDATE_DOCS_SCREENSHOT=1`` the
screenshot of the lecture's neuron is written to ``docs/backprop.png`` (else to a temporary
directory).
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pytest

from micrograd_like.engine import OPS, Value, define_op, topological_order
from micrograd_like.explanation import explain

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
_missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
if _missing:
    pytest.skip(
        f"{' and '.join(_missing)} missing: run `sh scripts/ensure-browser` to install them",
        allow_module_level=True,
    )
if shutil.which("dot") is None:
    pytest.skip("Graphviz's dot is missing: run `sh scripts/ensure-dot`", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

DOCS_SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "backprop.png"
_OP_NAME = "explain_browser_smoothmax"

# ---------------------------------------------------------------- the graphs


def neuron() -> tuple[Value, list[Value]]:
    """The lecture's neuron: o = tanh(x1·w1 + x2·w2 + b)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, [x1, x2, w1, w2, b, n]


def twice() -> tuple[Value, list[Value]]:
    x = Value(3.0, label="x")
    return x * x + x, [x]


def chain() -> tuple[Value, list[Value]]:
    """y = w3·relu(w2·relu(w1·x)), L = ½(y − t)²."""
    x, t = Value(2.0, label="x"), Value(1.0, label="t")
    w1, w2, w3 = Value(0.8, label="w1"), Value(1.5, label="w2"), Value(-0.7, label="w3")
    y = w3 * (w2 * (w1 * x).relu()).relu()
    y.label = "y"
    return 0.5 * (y - t) ** 2, [x, t, w1, w2, w3, y]


def custom() -> tuple[Value, list[Value]]:
    a, b = Value(1.0, label="a"), Value(-0.5, label="b")
    return OPS[_OP_NAME](a, b) * a, [a, b]


CASES = {"neuron": neuron, "twice": twice, "chain": chain, "custom": custom}

# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Each case's page (English, and Spanish for the neuron), written once."""
    define_op(
        _OP_NAME,
        lambda a, b: math.log(math.exp(a) + math.exp(b)),
        lambda a, b, out: (math.e ** (a - out), math.e ** (b - out)),
    )
    try:
        folder = tmp_path_factory.mktemp("explain_pages")
        written = {}
        for name, build in CASES.items():
            written[name] = explain(build()[0]).save(folder / f"{name}.html")
        written["neuron_es"] = explain(neuron()[0], lang="es").save(folder / "neuron_es.html")
        yield written
    finally:
        del OPS[_OP_NAME]


@pytest.fixture(scope="module")
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1280,860",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def open_page(driver, path: Path) -> None:
    driver.get(path.as_uri())
    driver.get_log("browser")  # start each page with an empty console log


def console_errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def narration(driver) -> str:
    return driver.find_element(By.ID, "narration").text


def counter(driver) -> str:
    return driver.find_element(By.ID, "counter").text


def press(driver, key: str) -> None:
    driver.find_element(By.TAG_NAME, "body").send_keys(key)


def shown(driver) -> dict[str, tuple[str, str, str]]:
    """Each value node's (name, data text, grad text) as the page shows them."""
    return driver.execute_script(
        """
        var out = {};
        document.querySelectorAll("g.value").forEach(function (g) {
          out[g.id] = [g.id + "_name", g.id + "_data", g.id + "_grad"].map(function (id) {
            return document.getElementById(id).textContent;
          });
        });
        return out;
        """
    )


def number(text: str) -> str:
    """``"grad −1.5000"`` -> ``"-1.5000"``."""
    return text.split(" ", 1)[1].replace("\u2212", "-")


def fixed(x: float) -> str:
    text = f"{x:.4f}"
    return "0.0000" if text == "-0.0000" else text


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("case", list(CASES))
def test_walk_through_the_page(driver, pages, case):
    open_page(driver, pages[case])
    html = driver.page_source
    assert "http:" not in html and "https:" not in html
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    total = len(explain(CASES[case]()[0]).steps)
    # before the first step: no gradient anywhere, no data on computed nodes
    assert counter(driver) == f"Step 0 / {total}"
    start = shown(driver)
    assert all(grad == "grad ?" for _, _, grad in start.values())
    assert any(data == "data ?" for _, data, _ in start.values())
    intro = narration(driver)
    # Next, then →, each change the narration and the counter
    driver.find_element(By.ID, "next").click()
    first = narration(driver)
    assert first != intro and first.startswith("Forward: ")
    assert counter(driver) == f"Step 1 / {total}"
    press(driver, Keys.ARROW_RIGHT)
    assert narration(driver) != first and counter(driver) == f"Step 2 / {total}"
    press(driver, Keys.ARROW_LEFT)
    assert narration(driver) == first
    # End: every value shows its data and the gradient backward() computes
    press(driver, Keys.END)
    assert counter(driver) == f"Step {total} / {total}"
    assert narration(driver).startswith("Backward: ")
    root, named = CASES[case]()
    order = topological_order(root)
    root.backward()
    final = shown(driver)
    assert len(final) == len(order)
    for i, node in enumerate(order):
        _, data, grad = final[f"v{i}"]
        assert number(data) == fixed(node.data), (case, i)
        assert number(grad) == fixed(node.grad), (case, i)
    for leaf in named:
        assert any(name == leaf.label for name, _, _ in final.values())
    assert driver.find_element(By.ID, "next").get_attribute("disabled") is not None
    # Home: back to the start
    press(driver, Keys.HOME)
    assert counter(driver) == f"Step 0 / {total}" and narration(driver) == intro
    assert shown(driver) == start
    assert console_errors(driver) == []


def test_play_pause_and_highlighting(driver, pages):
    open_page(driver, pages["twice"])
    play = driver.find_element(By.ID, "play")
    play.click()
    assert play.text == "Pause"
    WebDriverWait(driver, 3, poll_frequency=0.05).until(
        lambda d: counter(d) != "Step 0 / 5", "Play did not advance"
    )
    play.click()
    assert play.text == "Play"
    press(driver, Keys.END)
    # the last step is x's gradient: three uses, three edges carrying it
    assert "x is used 3 times" in narration(driver)
    lit = driver.execute_script(
        "return Array.from(document.querySelectorAll('g.edge.bwd')).map(e => e.id).sort()"
    )
    assert {"v1_in0", "v1_in1", "v2_in1"} <= set(lit)
    assert driver.execute_script("return document.querySelector('g.current').id") == "v0"
    assert console_errors(driver) == []


def test_spanish_page_and_screenshot(driver, pages, tmp_path):
    open_page(driver, pages["neuron_es"])
    assert driver.find_element(By.ID, "next").text == "Siguiente"
    assert driver.find_element(By.ID, "prev").text == "Anterior"
    assert driver.find_element(By.ID, "play").text == "Reproducir"
    assert counter(driver) == "Paso 0 / 15"
    press(driver, Keys.ARROW_RIGHT)
    assert narration(driver).startswith("Hacia delante: ")
    press(driver, Keys.END)
    assert narration(driver).startswith("Hacia atrás: ")
    assert console_errors(driver) == []
    # the screenshot: the English page near the end of the backward pass
    open_page(driver, pages["neuron"])
    press(driver, Keys.END)
    press(driver, Keys.ARROW_LEFT)  # the lecture's step: w1's gradient, x1's still to come
    assert "do/dw1 = do/dn2 · ∂n2/∂w1 = 0.5000 × 2.0000 = 1.0000" in narration(driver)
    target = (
        DOCS_SCREENSHOT if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1" else tmp_path / "p.png"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(1200, 860)
    height = driver.execute_script(  # the window that fits the page, no blank space below
        "return document.body.scrollHeight + window.outerHeight - window.innerHeight"
    )
    driver.set_window_size(1200, height)
    try:
        assert driver.save_screenshot(str(target))
    finally:
        driver.set_window_size(1280, 860)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_phone_sized_screen(driver, pages):
    """On a phone the page never scrolls sideways; the picture keeps legible text and scrolls
    inside its frame, following the current node."""
    driver.set_window_size(390, 844)
    try:
        open_page(driver, pages["neuron"])
        measure = """
            var fig = document.getElementById("graph").getBoundingClientRect();
            var cur = document.querySelector("g.current");
            var box = cur ? cur.getBoundingClientRect() : null;
            return {
              page: document.documentElement.scrollWidth, viewport: window.innerWidth,
              text: document.getElementById("v0_data").getBoundingClientRect().height,
              inside: box ? box.left >= fig.left - 1 && box.right <= fig.right + 1 : null
            };
        """
        m = driver.execute_script(measure)
        assert m["page"] <= m["viewport"]
        assert m["text"] >= 9  # pixels
        press(driver, Keys.END)  # the last step's node is at the far end of the picture
        press(driver, Keys.HOME)
        for _ in range(5):  # the forward pass reaches o, at the right end
            press(driver, Keys.ARROW_RIGHT)
        assert counter(driver) == "Step 5 / 15"
        assert driver.execute_script(measure)["inside"] is True
    finally:
        driver.set_window_size(1280, 860)
