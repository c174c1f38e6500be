"""Issue 33 §5: the report in a real browser (headless Chromium, driven by Selenium). The speed
slider is moved with the keyboard, as a reader would, and the predicted range the page then shows
must be what ``predict`` of the saved model gives at that launch, to the digits shown; a
JavaScript error on the page fails the test. Run by ``make test-browser``, and by ``make test``
where Chromium and its driver are installed (Debian: ``apt install chromium chromium-driver``).
"""

import json
import shutil

import numpy as np
import pytest

from hybridlab.data import read_csv
from hybridlab.experiments.runner import run
from hybridlab.models import load

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                                reason="no Chromium and chromedriver (apt install chromium chromium-driver)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "shotput"
    run("shotput", 0, str(out), quick=True, models=["physics", "linear"], echo=lambda line: None)
    return out


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,2400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def _open(browser, page):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("return document.body.getAttribute('data-hybridlab-ready') === 'yes'"
                                   " || (window.hybridlabErrors || []).length > 0"))


def _errors(browser) -> list[str]:
    """The page's JavaScript errors: those its script caught, and the console's severe entries
    (a script the page's policy blocked, an exception anywhere)."""
    caught = browser.execute_script("return window.hybridlabErrors || []")
    logged = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    return caught + logged


def test_the_speed_slider_shows_what_the_saved_model_predicts(report, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(browser, report / "report.html")
    assert _errors(browser) == []
    slider = browser.find_element(By.ID, "speed-slider")
    before = browser.find_element(By.ID, "value-physics").text
    slider.send_keys(*[Keys.ARROW_RIGHT] * 7)
    i = int(slider.get_attribute("value"))
    j = int(browser.find_element(By.ID, "angle-slider").get_attribute("value"))
    grid = read_csv(report / "grid.csv")
    speed, angle = np.unique(grid["speed"])[i], np.unique(grid["angle"])[j]
    assert i == len(np.unique(grid["speed"])) // 2 + 7
    shown = browser.find_element(By.ID, "value-physics").text
    assert shown != before
    for name in ("physics", "linear"):
        predicted = float(load(report / "models" / name).predict(np.array([[speed, np.deg2rad(angle)]]))[0])
        # The page shows 4 significant digits: the same number as the prediction rounded so.
        assert float(browser.find_element(By.ID, f"value-{name}").text) == float(f"{predicted:.4g}"), name
    truth = grid["true"][(grid["speed"] == speed) & (grid["angle"] == angle)][0]
    assert float(browser.find_element(By.ID, "value-true").text) == float(f"{truth:.4g}")
    # The marker on the map is at the chosen launch.
    marker = browser.execute_script("var d = document.getElementById('maps-plot').data[1]; return [d.x[0], d.y[0]]")
    assert marker == pytest.approx([speed, angle])
    assert _errors(browser) == []


def test_a_model_can_be_hidden_and_shown_again(report, browser):
    from selenium.webdriver.common.by import By

    _open(browser, report / "report.html")
    visible = "return document.getElementById('explorer-speed').data.filter(t => t.name === 'linear')[0].visible"
    assert browser.execute_script(visible) is True
    browser.find_element(By.ID, "show-linear").click()
    assert browser.execute_script(visible) == "legendonly"
    browser.find_element(By.ID, "show-linear").click()
    assert browser.execute_script(visible) is True
    assert _errors(browser) == []


def test_a_page_whose_script_fails_is_caught(report, browser, tmp_path):
    """The check above can fail: a report whose data element is broken raises in its script."""
    text = (report / "report.html").read_text()
    start = text.index('<script type="application/json" id="hybridlab-data">') + 52
    broken = tmp_path / "broken.html"
    broken.write_text(text[:start] + "{not json" + text[start:])
    _open(browser, broken)
    assert _errors(browser)


def test_the_page_holds_the_run_and_nothing_external(report):
    text = (report / "report.html").read_text()
    data = json.loads(text.split('id="hybridlab-data">')[1].split("</script>")[0])
    assert sorted(data["models"]) == ["linear", "physics"] and len(data["paths"]) == len(data["grid"]["x"]) ** 2
    assert "http://" not in text.split("<script>")[0] and "script-src 'sha256-" in text
