"""The data-only forecasters against independent references: the ESN's read-out against NumPy's
least squares on the same reservoir states, its spectral radius against numpy.linalg.eigvals,
one reservoir step and one LSTM step against hand-written NumPy; the kinematics baseline against
the closed form of a parabola; and the refusals."""

import jax
import numpy as np
import pytest

from hybridlab.data import Tracks, simulate_tracks
from hybridlab.forecasting import LSTM, EchoStateNetwork, constant_acceleration
from hybridlab.forecasting.base import padded_positions
from hybridlab.forecasting.esn import reservoir_states
from hybridlab.physics import Projectile, QuadraticDrag

BASEBALL = Projectile(QuadraticDrag(1.2e-3), mass=0.145)
STEP = 0.1


@pytest.fixture(scope="module")
def drawn():
    """30 tracks: the first 24 fitted, the last 6 fresh (one simulation compiled for both)."""
    return simulate_tracks(BASEBALL, 30, 2, (30, 50), (0.3, 1.0), 0.05, jax.random.key(0), step=STEP)


@pytest.fixture(scope="module")
def tracks(drawn):
    return drawn.select(drawn.names[:24])


@pytest.fixture(scope="module")
def esn(tracks):
    return EchoStateNetwork(size=40, ridge=1e-3, validation=0.0).fit(tracks)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_the_examples_are_each_point_and_its_last_step_then_the_next_step(esn, tracks):
    """Built by hand from one track: input k = ((x_k − μ)/σ, (x_k − x_{k−1})/σ_Δ), target
    k = (x_{k+1} − x_k)/σ_Δ, for the points k = 1 … n − 2."""
    positions, counts = padded_positions(tracks)
    inputs, targets, mask = (np.asarray(a) for a in esn._examples(positions, counts))
    x, n = positions[0, :counts[0]], counts[0]
    mean, scale, step = (np.asarray(v) for v in (esn.mean_, esn.scale_, esn.step_scale_))
    expected_inputs = [np.r_[(x[k] - mean) / scale, (x[k] - x[k - 1]) / step] for k in range(1, n - 1)]
    expected_targets = [(x[k + 1] - x[k]) / step for k in range(1, n - 1)]
    np.testing.assert_allclose(inputs[0, :n - 2], expected_inputs, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(targets[0, :n - 2], expected_targets, rtol=1e-13, atol=1e-13)
    assert mask[0].sum() == n - 2


def test_the_readout_is_numpys_ridge_least_squares_on_the_same_states(esn, tracks):
    positions, counts = padded_positions(tracks)
    inputs, targets, mask = esn._examples(positions, counts)
    states = np.asarray(reservoir_states(esn._untrained(), inputs))
    keep = np.asarray(mask) & (np.arange(mask.shape[1]) >= esn.washout)
    X = np.column_stack([np.ones(keep.sum()), states[keep]])
    Y = np.asarray(targets)[keep]
    # Ridge as plain least squares on the augmented system [X; √λ I] w = [Y; 0].
    augmented = np.vstack([X, np.sqrt(esn.ridge) * np.eye(X.shape[1])])
    reference, *_ = np.linalg.lstsq(augmented, np.vstack([Y, np.zeros((X.shape[1], Y.shape[1]))]), rcond=None)
    np.testing.assert_allclose(np.asarray(esn.reservoir_.W_out), reference, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("radius", [0.5, 0.9, 1.3])
def test_the_reservoir_has_the_spectral_radius_asked_for(tracks, radius):
    model = EchoStateNetwork(size=50, spectral_radius=radius, connectivity=0.2, validation=0.0).fit(tracks)
    eigenvalues = np.linalg.eigvals(np.asarray(model.reservoir_.W))
    assert np.max(np.abs(eigenvalues)) == pytest.approx(radius, rel=1e-10)
    assert 0.1 < np.mean(np.asarray(model.reservoir_.W) != 0) < 0.3  # sparse as asked


def test_one_reservoir_step_is_the_leaky_tanh_update(esn):
    cell = esn.reservoir_
    rng = np.random.default_rng(0)
    r, u = rng.normal(size=cell.W.shape[0]), rng.normal(size=cell.W_in.shape[1] - 1)
    W, W_in, leak = (np.asarray(a) for a in (cell.W, cell.W_in, cell.leak))
    expected = (1 - leak) * r + leak * np.tanh(W_in @ np.r_[1.0, u] + W @ r)
    np.testing.assert_allclose(np.asarray(cell.update(r, u)), expected, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(cell.readout(r)), np.r_[1.0, r] @ np.asarray(cell.W_out), rtol=1e-13)


def test_one_lstm_step_is_the_textbook_cell(tracks):
    model = LSTM(hidden=5, window=8, warmup=2, epochs=2, free_epochs=1, validation=0.0).fit(tracks)
    recurrent = model.recurrent_
    rng = np.random.default_rng(1)
    h, c, u = rng.normal(size=5), rng.normal(size=5), rng.normal(size=4)
    W_ih, W_hh, b = (np.asarray(a) for a in (recurrent.cell.weight_ih, recurrent.cell.weight_hh, recurrent.cell.bias))
    i, f, g, o = np.split(W_ih @ u + W_hh @ h + b, 4)
    c_next = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h_next = _sigmoid(o) * np.tanh(c_next)
    got_h, got_c = recurrent.update((h, c), u)
    np.testing.assert_allclose(np.asarray(got_c), c_next, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(got_h), h_next, rtol=1e-12)
    A, a = np.asarray(recurrent.head.weight), np.asarray(recurrent.head.bias)
    np.testing.assert_allclose(np.asarray(recurrent.readout((h, c))), A @ h + a, rtol=1e-12)


def _parabola(t, x0=(0.0, 1.5), v0=(20.0, 14.0), g=9.81):
    return np.column_stack([x0[0] + v0[0] * t, x0[1] + v0[1] * t - 0.5 * g * t**2])


def test_the_kinematics_baseline_continues_a_noise_free_parabola_exactly():
    t = np.arange(12) * STEP
    observed = Tracks("shot", ("a",), np.zeros(12, int), t, _parabola(t))
    later = t[-1] + STEP * np.arange(1, 20)
    predicted, std = constant_acceleration(observed, later[None])
    np.testing.assert_allclose(predicted[0], _parabola(later), rtol=1e-10, atol=1e-9)
    assert np.all(std < 1e-9)
    three = Tracks("shot", ("a",), np.zeros(3, int), t[:3], _parabola(t[:3]))
    predicted, std = constant_acceleration(three, later[None])
    np.testing.assert_allclose(predicted[0], _parabola(later), rtol=1e-9, atol=1e-8)
    assert np.all(np.isnan(std))  # three points fit exactly: no noise level to tell


def test_the_kinematics_interval_is_the_textbook_prediction_interval():
    rng = np.random.default_rng(2)
    t = np.arange(15) * STEP
    x = _parabola(t) + rng.normal(0, 0.1, (15, 2))
    observed = Tracks("shot", ("a",), np.zeros(15, int), t, x)
    later = np.array([[t[-1] + 0.3]])
    _, std = constant_acceleration(observed, later)
    design = np.vander(t, 3, increasing=True)
    for axis in range(2):
        beta, residual, *_ = np.linalg.lstsq(design, x[:, axis], rcond=None)
        s2 = residual[0] / (15 - 3)
        phi = np.vander(later[0], 3, increasing=True)[0]
        expected = np.sqrt(s2 * (1 + phi @ np.linalg.inv(design.T @ design) @ phi))
        assert std[0, 0, axis] == pytest.approx(expected, rel=1e-9)


def test_forecasts_stay_near_the_noise_one_step_ahead(esn, drawn):
    fresh = drawn.select(drawn.names[24:])
    positions, counts = padded_positions(fresh)
    cut = 10
    observed = fresh.where(np.concatenate([np.arange(c) < cut for c in counts]))
    predicted, std = esn.predict(observed, 1, return_std=True)
    error = predicted[:, 0] - positions[:, cut]
    # Noise of 0.05 m on the truth and on the last observed point the forecast starts from.
    assert np.sqrt(np.mean(error**2)) < 0.15
    assert std.shape == predicted.shape and np.all(std > 0.03)


def test_a_forecaster_refuses_what_it_was_not_checked_on(esn, tracks):
    positions, counts = padded_positions(tracks)
    observed = tracks.where(np.concatenate([np.arange(c) < 10 for c in counts]))
    with pytest.raises(ValueError, match=f"horizon = {esn.horizon_ + 1}: must be an integer from 1 to"):
        esn.predict(observed, esn.horizon_ + 1)
    short = tracks.where(np.concatenate([np.arange(c) < 3 for c in counts]))
    with pytest.raises(ValueError, match="observed points: this EchoStateNetwork forecasts from at least 7"):
        esn.predict(short, 1)
    uneven = Tracks("shot", ("a",), np.zeros(8, int), np.r_[0.0, 0.1, 0.2, 0.5, 0.6, 0.7, 0.8, 0.9],
                    np.zeros((8, 2)))
    with pytest.raises(ValueError, match="needs evenly spaced points"):
        esn.predict(uneven, 1)
    with pytest.raises(ValueError, match="needs evenly spaced points"):
        EchoStateNetwork().fit(uneven)
    far = Tracks("shot", ("far",), observed.track[observed.track == 0] * 0, observed.t[observed.track == 0],
                 observed.position[observed.track == 0] * 3.0)  # three times as far and fast as any
    assert not esn.seen(far)[0] and esn.seen(observed).all()
    with pytest.raises(ValueError, match="track 'far': its positions or steps lie outside those of the training"):
        esn.predict(far, 1)


def test_the_score_is_the_rms_error_by_horizon_and_the_coverage_by_hand():
    from hybridlab.experiments.forecast import BAND, NOISE, score

    later = Tracks("shot", ("a", "b"), np.array([0, 0, 0, 1, 1]), np.array([1.0, 1.1, 1.2, 2.0, 2.1]),
                   np.zeros((5, 2)))
    predicted = np.array([[0.03, 0.04], [0.1, 0.0], [np.nan, np.nan], [0.0, 0.06], [3.0, 4.0]])
    std = np.full((5, 2), 0.05)
    scores, curve = score(later, predicted, std)
    # Step 1: rows 0 and 3; step 2: rows 1 and 4; step 3: row 2 (not forecast).
    first = np.sqrt(np.mean([(0.03**2 + 0.04**2) / 2, 0.06**2 / 2]))
    second = np.sqrt(np.mean([0.1**2 / 2, (9 + 16) / 2]))
    np.testing.assert_allclose(curve["rmse"][:2], [first, second], rtol=1e-12)
    assert np.isnan(curve["rmse"][2]) and list(curve["count"]) == [2, 2, 0]
    assert scores["rmse_first"] == pytest.approx(first) and scores["rmse_last"] == pytest.approx(second)
    assert (first <= BAND * NOISE) and scores["leaves_band_s"] == pytest.approx(0.2)
    # |error| ≤ 1.645·0.05 = 0.082 m: 0.03, 0.04, 0, 0, 0.06 inside; 0.1, 3, 4 outside (8 finite).
    assert scores["coverage"] == pytest.approx(5 / 8) and scores["forecast_share"] == pytest.approx(4 / 5)


def test_the_forecast_run_writes_its_files_and_a_report_rebuilt_from_them(tmp_path, monkeypatch, drawn):
    from hybridlab.data import cut_tracks, renamed
    from hybridlab.experiments import forecast
    from hybridlab.report.forecast import build_forecast_report

    test = renamed(drawn.select(drawn.names[24:27]), "test/")
    monkeypatch.setattr(forecast, "simulated", lambda seed, quick: (drawn.select(drawn.names[:12]),
                                                                     *cut_tracks(test, 10)))
    small = {"constant acceleration": forecast._kinematics,
             "echo state network": forecast._forecaster(lambda: EchoStateNetwork(size=40, ridge=1e-3))}
    monkeypatch.setattr(forecast, "rungs", lambda quick, seed: small)
    printed = []
    metrics = forecast.run_forecast(str(tmp_path / "run"), quick=True, echo=printed.append)
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} >= {"metrics.json", "tracks.csv", "forecasts.csv", "errors.csv",
                                               "report.html", "figures"}
    assert set(metrics["rungs"]) == {"constant acceleration", "echo state network"} and len(printed) == 2
    first = (run / "report.html").read_bytes()
    (run / "report.html").unlink()
    for figure in (run / "figures").iterdir():
        figure.unlink()
    build_forecast_report(str(run))  # from the files alone
    assert (run / "report.html").read_bytes() == first
    # The error against the horizon is drawn in the browser, from errors.csv: a curve per rung.
    import json

    from hybridlab.data import read_csv

    text = first.decode("utf-8")
    figures = json.loads(text.split('id="hybridlab-data">')[1].split("</script>")[0])["lines"]
    errors = read_csv(run / "errors.csv", text=("rung", "set"))
    rows = (errors["set"] == "family") & (errors["rung"] == "echo state network")
    (esn,) = [trace for trace in figures[0]["traces"] if trace["name"] == "echo state network"]
    assert esn["dash"]  # a data-only rung; a horizon it did not forecast is a gap (null)
    np.testing.assert_allclose(np.array(esn["y"], dtype=float), errors["rmse"][rows], rtol=1e-9, equal_nan=True)
    assert "<noscript><figure>" in text and "script-src 'sha256-" in text
    # The forecast tracks too, from tracks.csv and forecasts.csv: a rung's forecast and its band's outline.
    forecasts = read_csv(run / "forecasts.csv", text=("rung", "track"))
    shown = next(f for f in figures if f["title"].startswith("track "))
    name = shown["title"][len("track "):]
    rows = (forecasts["track"] == name) & (forecasts["rung"] == "echo state network")
    traces = {trace["name"]: trace for trace in shown["traces"]}
    np.testing.assert_allclose(np.array(traces["echo state network"]["y"], dtype=float), forecasts["y"][rows],
                               rtol=1e-9, equal_nan=True)
    band = traces["echo state network: band"]
    assert band["hidden"] and len(band["x"]) == 2 * rows.sum() and not traces["measured (observed)"]["joined"]


def test_the_drops_benchmark_scores_the_esn_on_the_measured_heights_after_the_split():
    from hybridlab.experiments.learning import drops_benchmark, drops_table

    rows = drops_benchmark(("esn",))
    assert len(rows) == 9
    for row in rows:
        entry = row["esn"]
        assert np.isfinite(entry["mse_test"]) and 0 <= entry["coverage_test"] <= 1 and entry["width_test"] > 0
        assert entry["law"] == "esn (data only)" and entry["horizon_s"] > 0.5
    assert "esn (data only); 90 % interval covers" in drops_table(rows, ["esn"])
