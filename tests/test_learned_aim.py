"""The learned inverse (issue 10 §2): an encoder trained through a frozen decoder, checked
against closed forms, the exact aim and the persistence contract."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hybridlab.inverse import EncoderDecoder, PhysicsDecoder, aim, evaluate_aim
from hybridlab.models import MLP, BasisRegression, Hybrid, LinearRegression, NearestNeighbour, PhysicsFit, load
from hybridlab.physics import LinearDrag, Projectile

G = 9.81
TRAIN = np.linspace(10.0, 40.0, 32)
HELD_OUT = np.array([12.3, 17.1, 25.55, 33.3, 38.9])
SMALL = {"epochs": 800, "polish": 200, "width": 16}


@pytest.fixture(scope="module")
def vacuum_least_speed():
    return EncoderDecoder(Projectile(), **SMALL).fit(TRAIN)


def test_least_speed_branch_converges_to_the_vacuum_closed_form(vacuum_least_speed):
    shots = vacuum_least_speed.predict(HELD_OUT)
    # Without drag, from the ground: v_min = √(g d) at 45°.
    np.testing.assert_allclose(shots[:, 0], np.sqrt(G * HELD_OUT), rtol=2e-3)
    np.testing.assert_allclose(shots[:, 1], np.pi / 4, atol=0.02)
    landed = shots[:, 0] ** 2 * np.sin(2 * shots[:, 1]) / G
    np.testing.assert_allclose(landed, HELD_OUT, rtol=3e-3)


# The high arc repeats the low arc's check on the other branch: make test-all.
@pytest.mark.parametrize("branch", ["low-arc", pytest.param("high-arc", marks=pytest.mark.slow)])
def test_arc_branches_at_a_fixed_speed_are_the_closed_form_arcs(branch):
    speed = 22.0  # reaches 49.3 m: every training target has two arcs
    model = EncoderDecoder(Projectile(), branch=branch, speed=speed, **SMALL).fit(TRAIN)
    shots = model.predict(HELD_OUT)
    low = 0.5 * np.arcsin(G * HELD_OUT / speed**2)
    expected = low if branch == "low-arc" else np.pi / 2 - low
    np.testing.assert_allclose(shots[:, 0], speed)
    np.testing.assert_allclose(shots[:, 1], expected, atol=2e-3)


@pytest.mark.slow  # ~30 s; the run's aiming section (test_experiments) trains the same through a physics fit
def test_the_physics_decoder_under_drag_learns_the_exact_least_speed_shot():
    truth = Projectile(LinearDrag(1.8), mass=7.26)
    model = EncoderDecoder(truth, epochs=1000, polish=300, width=16).fit(np.linspace(40.0, 160.0, 32))
    report = evaluate_aim(model, truth, [55.5, 101.0, 150.0])
    exact = aim(truth, np.array([55.5, 101.0, 150.0]))
    assert report["miss"]["max"] < 2e-3
    assert abs(report["speed_excess"]["max"]) < 2e-3
    np.testing.assert_allclose(report["per_target"]["angle"], exact.angle, atol=0.02)


@pytest.mark.slow  # ~30 s; the run's aiming section (test_experiments) trains the same through an MLP
def test_a_data_decoder_is_trained_through_and_checked_on_the_truth():
    truth = Projectile()
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(5, 25, 400), rng.uniform(0.1, 1.4, 400)])
    decoder = MLP(widths=(32, 32), epochs=1500, seed=0).fit(X, np.asarray(truth.range(X[:, 0], X[:, 1])))
    model = EncoderDecoder(decoder, speeds=(5.0, 25.0), angles=(0.1, 1.4), **SMALL).fit(TRAIN)
    report = evaluate_aim(model, truth, HELD_OUT)
    # The encoder is as good as its decoder: a few per cent off, not exact.
    assert report["miss"]["median"] < 0.02
    assert report["speed_excess"]["median"] < 0.03
    assert set(report["per_target"]) == {"distance", "speed", "angle", "landed", "miss", "speed_excess"}


def test_evaluate_aim_flies_the_learned_shots_with_the_truth(vacuum_least_speed):
    report = evaluate_aim(vacuum_least_speed, Projectile(), HELD_OUT)
    shots = vacuum_least_speed.predict(HELD_OUT)
    landed = shots[:, 0] ** 2 * np.sin(2 * shots[:, 1]) / G  # the vacuum's closed form
    miss = np.abs(landed - HELD_OUT) / HELD_OUT
    assert report["miss"]["max"] == pytest.approx(miss.max(), rel=1e-9)
    assert report["miss"]["median"] == pytest.approx(np.median(miss), rel=1e-9)
    excess = shots[:, 0] / np.sqrt(G * HELD_OUT) - 1
    assert report["speed_excess"]["max"] == pytest.approx(excess.max(), rel=1e-6, abs=1e-12)


def test_evaluate_aim_takes_the_least_speeds_the_caller_has(vacuum_least_speed):
    shots = vacuum_least_speed.predict(HELD_OUT)
    given = 2.0 * np.sqrt(G * HELD_OUT)  # not the least speeds: the excess must follow them
    report = evaluate_aim(vacuum_least_speed, Projectile(), HELD_OUT, least_speed=given)
    np.testing.assert_allclose(report["per_target"]["speed_excess"], shots[:, 0] / given - 1, rtol=1e-12)
    with pytest.raises(ValueError, match="least_speed: 2 values for 5 distances"):
        evaluate_aim(vacuum_least_speed, Projectile(), HELD_OUT, least_speed=[1.0, 2.0])


@pytest.mark.parametrize("decoder_kind", ["physics", pytest.param("mlp", marks=pytest.mark.slow)])
def test_save_and_load_reproduce_the_predictions_without_pickle(tmp_path, decoder_kind):
    if decoder_kind == "physics":
        decoder = Projectile(LinearDrag(0.5), mass=2.0)
    else:
        X = np.column_stack([np.linspace(5, 25, 50), np.linspace(0.2, 1.3, 50)])
        decoder = MLP(widths=(8,), epochs=200).fit(X, np.asarray(Projectile().range(X[:, 0], X[:, 1])))
    model = EncoderDecoder(decoder, epochs=50, polish=0, width=8).fit(TRAIN)
    model.save(tmp_path / "m")
    record = json.loads((tmp_path / "m" / "model.json").read_text())
    assert record["model"] == "encoder-decoder"
    loaded = load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(HELD_OUT), model.predict(HELD_OUT))
    assert loaded.summary()["decoder"] == model.summary()["decoder"]
    if decoder_kind == "mlp":  # the frozen decoder travels with the encoder
        X = np.array([[12.0, 0.7]])
        np.testing.assert_array_equal(loaded.decoder_model().predict(X), decoder.predict(X))
        loaded.fit(TRAIN[:8])  # and can be trained through again


def test_summary_keeps_the_contract(vacuum_least_speed):
    summary = vacuum_least_speed.summary()
    assert summary["model"] == "encoder-decoder" and summary["params"]["branch"] == "least-speed"
    assert summary["n_params"] == 16 * 1 + 16 + 16 * 16 + 16 + 2 * 16 + 2
    assert summary["diagnostics"]["train_loss"] < 1e-5


@pytest.mark.slow
def test_as_function_is_the_prediction_and_differentiable():
    X = np.column_stack([np.linspace(5, 25, 60), np.linspace(0.2, 1.3, 60)])
    y = np.asarray(Projectile().range(X[:, 0], X[:, 1]))
    fitted = [MLP(widths=(8,), epochs=100).fit(X, y), LinearRegression().fit(X, y),
              Hybrid(network=MLP(widths=(4,), epochs=50)).fit(X, y),
              PhysicsFit({"drag": {"law": "linear", "k": 0.1}}, unknown=["k"]).fit(X, y)]
    x0 = jnp.array([[12.0, 0.6]])
    for model in fitted:
        f = model.as_function()
        np.testing.assert_allclose(eqx.filter_jit(f)(x0), model.predict(np.asarray(x0)), rtol=1e-12)
        gradient = jax.grad(lambda x: f(x)[0])(x0)[0]
        for j, h in ((0, 1e-4), (1, 1e-6)):
            step = jnp.zeros_like(x0).at[0, j].set(h)
            central = (model.predict(np.asarray(x0 + step)) - model.predict(np.asarray(x0 - step)))[0] / (2 * h)
            assert gradient[j] == pytest.approx(central, rel=1e-4), (model.name, j)
    for model in (NearestNeighbour().fit(X, y), BasisRegression().fit(X, y)):
        with pytest.raises(ValueError, match="not differentiable"):
            model.as_function()


def test_physics_decoder_is_the_range():
    p = Projectile(LinearDrag(0.3))
    X = jnp.array([[10.0, 0.4], [20.0, 1.0]])
    np.testing.assert_array_equal(PhysicsDecoder(p)(X), p.range(X[:, 0], X[:, 1]))


@pytest.mark.parametrize("kwargs, match", [
    ({"branch": "lowest"}, "branch"),
    ({"branch": "least-speed", "speed": 10.0}, "speed"),
    ({"branch": "low-arc"}, "speed"),
    ({"speeds": (10.0, 5.0)}, "speeds"),
    ({"angles": (0.0, 2.0)}, "angles"),
    ({"penalty": -1.0}, "penalty"),
    ({"epochs": 0}, "epochs"),
    ({"decoder": "physics"}, "decoder"),
])
def test_bad_settings_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EncoderDecoder(**kwargs)


def test_an_unfitted_decoder_and_bad_targets_are_refused():
    with pytest.raises(ValueError, match="not fitted"):
        EncoderDecoder(MLP())
    model = EncoderDecoder(Projectile(), epochs=1, polish=0)
    for bad in ([10.0, 0.0], [np.nan], []):
        with pytest.raises(ValueError, match="distances"):
            model.fit(bad)
