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
    # The blog post's cannon with two rungs that compile little: a whole run in seconds.
    out = tmp_path_factory.mktemp("browser") / "cannon"
    run("cannon", 0, str(out), quick=True, models=["linear", "nearest"], echo=lambda line: None)
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


def _open(browser, page) -> bool:
    """Load the page; whether its script finished drawing (inline scripts have all run once the
    document is complete: a script the policy blocked never sets the mark)."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState === 'complete'"))
    return browser.execute_script("return document.body.getAttribute('data-hybridlab-ready') === 'yes'")


def _errors(browser) -> list[str]:
    """The page's JavaScript errors: those its script caught, and the console's severe entries
    (a script the page's policy blocked, an exception anywhere)."""
    caught = browser.execute_script("return window.hybridlabErrors || []")
    logged = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    return caught + logged


def test_the_speed_slider_shows_what_the_saved_model_predicts(report, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    assert _open(browser, report / "report.html")
    assert _errors(browser) == []
    slider = browser.find_element(By.ID, "speed-slider")
    before = browser.find_element(By.ID, "value-linear").text
    slider.send_keys(*[Keys.ARROW_RIGHT] * 7)
    i = int(slider.get_attribute("value"))
    j = int(browser.find_element(By.ID, "angle-slider").get_attribute("value"))
    grid = read_csv(report / "grid.csv")
    speed, angle = np.unique(grid["speed"])[i], np.unique(grid["angle"])[j]
    assert i == len(np.unique(grid["speed"])) // 2 + 7
    shown = browser.find_element(By.ID, "value-linear").text
    assert shown != before
    for name in ("linear", "nearest"):
        predicted = float(load(report / "models" / name).predict(np.array([[speed, np.deg2rad(angle)]]))[0])
        # The page shows 4 significant digits: the same number as the prediction rounded so.
        assert float(browser.find_element(By.ID, f"value-{name}").text) == float(f"{predicted:.4g}"), name
    truth = grid["true"][(grid["speed"] == speed) & (grid["angle"] == angle)][0]
    assert float(browser.find_element(By.ID, "value-true").text) == float(f"{truth:.4g}")
    # The marker on the map is at the chosen launch.
    marker = browser.execute_script("var d = document.getElementById('maps-plot').data[1]; return [d.x[0], d.y[0]]")
    assert marker == pytest.approx([speed, angle])
    # The angle slider too; the path drawn is the true one of the chosen launch: it lands at the
    # true range (grid.csv) and starts along the launch angle.
    browser.find_element(By.ID, "angle-slider").send_keys(*[Keys.ARROW_LEFT] * 4)
    j = int(browser.find_element(By.ID, "angle-slider").get_attribute("value"))
    angle = np.unique(grid["angle"])[j]
    x, y = browser.execute_script("var d = document.getElementById('explorer-trajectory').data[0]; return [d.x, d.y]")
    truth = grid["true"][(grid["speed"] == speed) & (grid["angle"] == angle)][0]
    assert x[-1] == pytest.approx(truth, rel=1e-8) and abs(y[-1]) < 1e-6
    assert np.degrees(np.arctan2(y[1], x[1])) < angle  # the first chord lies below the launch direction
    assert float(browser.find_element(By.ID, "value-true").text) == float(f"{truth:.4g}")
    assert _errors(browser) == []


def test_a_model_can_be_hidden_and_shown_again(report, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    assert _open(browser, report / "report.html")
    visible = "return document.getElementById('explorer-speed').data.filter(t => t.name === 'linear')[0].visible"
    assert browser.execute_script(visible) is True
    browser.find_element(By.ID, "show-linear").click()
    assert browser.execute_script(visible) == "legendonly"
    browser.find_element(By.ID, "show-linear").click()
    assert browser.execute_script(visible) is True
    # A click on its legend entry hides it too, and a slider's move keeps it hidden.
    browser.execute_script("""var plot = document.getElementById('explorer-speed');
        var index = plot.data.findIndex(t => t.meta === 'linear');
        plot.emit('plotly_legendclick', {curveNumber: index, data: plot.data});""")
    browser.find_element(By.ID, "speed-slider").send_keys(Keys.ARROW_LEFT)
    assert browser.execute_script(visible) == "legendonly"
    assert not browser.find_element(By.ID, "show-linear").is_selected()
    assert _errors(browser) == []


def test_a_page_whose_script_fails_is_caught(report, browser, tmp_path):
    """The check above can fail: a report whose data element is broken raises in its script."""
    text = (report / "report.html").read_text()
    start = text.index('<script type="application/json" id="hybridlab-data">') + 52
    broken = tmp_path / "broken.html"
    broken.write_text(text[:start] + "{not json" + text[start:])
    assert not _open(browser, broken)
    assert any("JSON" in error for error in _errors(browser))
    # A script that is not exactly the one the page's policy names is not run at all.
    tampered = tmp_path / "tampered.html"
    tampered.write_text(text.replace("window.hybridlabErrors = window.hybridlabErrors || [];",
                                     "window.hybridlabErrors = window.hybridlabErrors || [] ;"))
    assert not _open(browser, tampered)
    assert any("Content Security Policy" in error for error in _errors(browser))


def test_text_from_the_files_is_shown_as_text_not_markup(report, browser, tmp_path):
    """A unit or a model's name with markup in it (a run directory from elsewhere) is shown
    literally in the page and in Plotly's labels, which read markup."""
    import shutil as files

    from selenium.webdriver.common.by import By

    from hybridlab.data import write_csv
    from hybridlab.report import build_report

    odd = tmp_path / "odd"
    files.copytree(report, odd)
    name = "<i>odd</i>%{y}"
    metrics = json.loads((odd / "metrics.json").read_text())
    metrics["units"]["distance"] = "<b>m</b>"
    metrics["models"] = {name if key == "linear" else key: value for key, value in metrics["models"].items()}
    (odd / "metrics.json").write_text(json.dumps(metrics))
    for table in ("grid.csv", "curves.csv"):
        columns = read_csv(odd / table)
        write_csv(odd / table, {name + key[len("linear"):] if key.split(":")[0] == "linear" else key: value
                                for key, value in columns.items()})
    build_report(odd)
    assert _open(browser, odd / "report.html")
    marked = browser.execute_script("return document.querySelectorAll('.js-plotly-plot b, .js-plotly-plot i').length")
    assert marked == 0
    legend = browser.execute_script("return Array.from(document.querySelectorAll('#explorer-speed .legendtext'))"
                                    ".map(e => e.textContent.replace('\\u200b', ''))")
    assert name in legend
    assert browser.find_element(By.ID, f"row-{name}").text.startswith(name)
    assert _errors(browser) == []


def test_the_page_holds_the_run_and_nothing_external(report):
    text = (report / "report.html").read_text()
    data = json.loads(text.split('id="hybridlab-data">')[1].split("</script>")[0])
    assert sorted(data["models"]) == ["linear", "nearest"] and len(data["trajectories"]) == len(data["grid"]["x"]) ** 2
    assert "http://" not in text.split("<script>")[0] and "script-src 'sha256-" in text


def test_the_line_figures_of_the_other_scenarios_pages_draw(browser, tmp_path):
    """The forecast, gust, equations, wind and sweep pages draw their curves with lines_parts:
    each curve a trace with its values, a hidden one listed but not drawn, points not joined
    where asked (a sweep's seeds), names shown as text."""
    from hybridlab.report.interactive import line, lines_parts
    from hybridlab.report.page import html_page

    x = np.linspace(0.0, 2.0, 21)
    figures = [{"title": "errors <b>by</b> horizon", "x_label": "horizon (s)", "y_label": "RMS error (m)",
                "log_y": True, "traces": [line("grey box", x, 0.05 + 0 * x), line("<i>esn</i>", x, 0.05 + x, dash=True),
                                          line("least squares", x, 10 + x, hidden=True)]},
               {"title": "seeds", "x_label": "seed", "y_label": "RMSE", "x_integers": True,
                "traces": [line("linear", [3, 4], [0.1, 0.2], joined=False)]}]
    parts, scripts = lines_parts(figures)
    page = tmp_path / "page.html"
    page.write_text(html_page("lines", parts, scripts))
    assert _open(browser, page)
    drawn = browser.execute_script("return document.getElementById('lines-0').data.map(t => [t.visible, t.y[20]])")
    assert drawn == [[True, pytest.approx(0.05)], [True, pytest.approx(2.05)], ["legendonly", pytest.approx(12.0)]]
    assert browser.execute_script("return document.querySelectorAll('.js-plotly-plot b, .js-plotly-plot i').length") == 0
    assert browser.execute_script("return document.getElementById('lines-0').layout.yaxis.type") == "log"
    seeds = browser.execute_script("var p = document.getElementById('lines-1'); return [p.data[0].mode, p.layout.xaxis.dtick]")
    assert seeds == ["markers", 1]
    assert _errors(browser) == []
