"""The physics describes itself: drag-law registry, specs that round-trip, solvers chosen by the
law's declaration; and the progress meters fits are given."""

import io
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hybridlab  # noqa: F401  (float64)
from hybridlab.models import QUIET, ProgressMeter, TqdmProgress
from hybridlab.networks.progress import Labelled
from hybridlab.physics import DRAG_LAWS, AbstractDrag, LinearDrag, NoDrag, Projectile, QuadraticDrag


def _example(law):
    """An instance of ``law`` with coefficients away from their defaults."""
    return law(**{name: 3 * c.default for name, c in law.coefficients.items()})


@pytest.mark.parametrize("name", sorted(DRAG_LAWS))
def test_every_law_round_trips_through_its_spec(name):
    p = Projectile(_example(DRAG_LAWS[name]), mass=2.5, g=9.7, height=1.25)
    spec = p.to_spec()
    assert json.loads(json.dumps(spec)) == spec  # plain JSON
    q = Projectile.from_spec(spec)
    assert type(q.drag) is type(p.drag) and q.to_spec() == spec
    leaves = zip(jax.tree.leaves(p), jax.tree.leaves(q), strict=True)
    assert all(float(a) == float(b) for a, b in leaves)
    if name in ("none", "linear"):  # closed forms; an ODE law's range is one compile (seconds) for the same leaves
        assert float(q.range(20.0, 0.7)) == float(p.range(20.0, 0.7))


def test_registry_holds_the_laws_with_units():
    assert {name: {k: c.unit for k, c in law.coefficients.items()} for name, law in DRAG_LAWS.items()} == {
        "none": {}, "linear": {"k": "kg/s"}, "quadratic": {"c": "kg/m"},
        "polynomial": {"b": "N", "k": "kg/s", "c": "kg/m", "d": "kg s/m^2"}}
    assert Projectile(QuadraticDrag(), mass=0.145).units() == {"c": "kg/m", "mass": "kg", "g": "m/s²", "height": "m"}


def test_the_plain_catalogue_names_each_registered_law():
    """physics/laws.py (what the command line's help reads without JAX) and the registry agree."""
    from hybridlab.physics.laws import LAWS

    assert sorted(LAWS) == sorted(DRAG_LAWS)
    for name, law in LAWS.items():
        assert DRAG_LAWS[name].__name__ == law.class_name and DRAG_LAWS[name].title == law.title
        assert DRAG_LAWS[name].coefficients == law.coefficients


def test_a_law_named_only_by_its_name_takes_its_defaults():
    assert Projectile.from_spec({"drag": "linear"}).to_spec()["drag"] == {"law": "linear", "k": 0.45}
    assert Projectile.from_spec({"drag": "quadratic"}, starting=("c",)).to_spec()["drag"] == {
        "law": "quadratic", "c": QuadraticDrag.coefficients["c"].start}


@pytest.mark.parametrize("spec,message", [
    ({"drag": "cubic"}, "drag = 'cubic': must be one of"),
    ({"drag": {"law": "linear", "c": 1.0}}, r"\['c'\] do not apply to drag = 'linear'"),
    ({"drag": {"k": 1.0}}, "drag = None"),
    ({"drag": 3}, "drag = 3"),
    ({"mass": -1.0}, "mass = -1.0: must be finite and > 0"),
    ({"drag": {"law": "linear", "k": -2.0}}, "k = -2.0: must be finite and >= 0"),
    ({"spin": 3.0}, r"\['spin'\] are not known"),
    ({"wind": "strong"}, "wind must be a real number"),
    ({"wind": {"samples": [1.0, 2.0]}}, "duration is needed"),
    ({"wind": {"samples": [1.0, 2.0], "duration": 0.0}}, "duration = 0.0: must be finite and > 0"),
    ({"wind": {"speed": 3.0}}, "wind = .*must be a number"),
    ({"wind": [1.0, float("nan")]}, r"wind\[1\] = nan: must be finite"),
    ([1, 2], "physics = "),
])
def test_bad_specs_name_the_entry(spec, message):
    with pytest.raises(ValueError, match=message):
        Projectile.from_spec(spec)


class _Cubic(LinearDrag):
    """A user's law: LinearDrag's coefficient, another force (F = −k|v|²v)."""

    def force(self, vx, vy):
        speed_squared = vx**2 + vy**2
        return -self.k * speed_squared * vx, -self.k * speed_squared * vy


def test_a_subclass_with_another_force_is_declared_an_ode():
    assert LinearDrag.solved_by() == "linear" and _Cubic.solved_by() == "ode"
    assert NoDrag.solved_by() == "ballistic" and QuadraticDrag.solved_by() == "ode"


@pytest.mark.slow
def test_a_subclass_with_another_force_is_solved_as_an_ode_not_by_the_closed_form():
    # Small k: the cubic law is nearly no drag, and far from linear drag of the same k.
    k, v, theta = 1e-6, 30.0, 0.6
    cubic = float(Projectile(_Cubic(k)).range(v, theta))
    linear = float(Projectile(LinearDrag(k)).range(v, theta))
    vacuum = v**2 * np.sin(2 * theta) / 9.81
    assert cubic < vacuum and abs(cubic - linear) > 1e-4 * vacuum
    # A dropped ball (θ = −π/2) falls vertically: m dv/dt = mg − k v³, integrated independently.
    from scipy.integrate import solve_ivp

    drop = Projectile(_Cubic(0.01), height=20.0)
    event = lambda t, s: s[0]  # noqa: E731
    event.terminal = True
    solution = solve_ivp(lambda t, s: [-s[1], 9.81 - 0.01 * s[1] ** 3], (0, 100), [20.0, 0.0], events=event,
                         rtol=1e-12, atol=1e-12)
    assert float(drop.flight_time(0.0, -np.pi / 2)) == pytest.approx(solution.t_events[0][0], rel=1e-8)


def test_an_unregistered_law_solves_but_has_no_spec():
    class Unnamed(AbstractDrag):
        def force(self, vx, vy):
            return -0.1 * vx, -0.1 * vy

    p = Projectile(Unnamed(), mass=1.0)
    # F = −0.1 v is linear drag with k = 0.1: the ODE agrees with the closed form.
    assert float(p.range(20.0, 0.6)) == pytest.approx(float(Projectile(LinearDrag(0.1)).range(20.0, 0.6)), rel=1e-9)
    with pytest.raises(ValueError, match="no registered name"):
        p.to_spec()


def test_a_name_cannot_be_taken_twice():
    with pytest.raises(ValueError, match="'linear' is taken"):
        class Impostor(AbstractDrag):  # noqa: F841
            name = "linear"

            def force(self, vx, vy):
                return vx, vy


def test_parameters_are_replaced_traceably():
    p = Projectile(LinearDrag(1.8), mass=7.26)
    assert float(p.value("k")) == 1.8 and float(p.value("mass")) == 7.26
    grad = jax.grad(lambda k: p.replace(["k"], [k]).range(30.0, 0.6))(1.8)
    step = 1e-6
    fd = (float(Projectile(LinearDrag(1.8 + step), mass=7.26).range(30.0, 0.6))
          - float(Projectile(LinearDrag(1.8 - step), mass=7.26).range(30.0, 0.6))) / (2 * step)
    assert float(grad) == pytest.approx(fd, rel=1e-7)
    with pytest.raises(ValueError, match="parameter 'c' does not apply to linear drag k=1.8 kg/s, m=7.26 kg"):
        p.value("c")
    assert p.replace(["mass"], [jnp.asarray(2.0)]).label() == "linear drag k=1.8 kg/s, m=2 kg"


# Progress meters --------------------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_tqdm_progress_draws_only_on_a_terminal():
    for stream, drawn in ((_Terminal(), True), (io.StringIO(), False)):
        task = Labelled(TqdmProgress(stream), "physics").task("mlp", 200)
        task.update(100)
        task.update(200)
        task.close()
        text = stream.getvalue()
        assert ("physics" in text and "200/200" in text) == drawn and ("mlp" in text) is False
    task = QUIET.task("mlp", 10)
    task.update(5)
    task.close()


def test_a_fit_reports_its_epochs_to_the_meter():
    seen = []

    class Recorder(ProgressMeter):
        def task(self, label, total):
            seen.append((label, total))

            class Task:
                def update(self, done):
                    seen.append(done)

                def close(self):
                    seen.append("closed")

            return Task()

    from hybridlab.models import MLP

    X = np.column_stack([np.linspace(0, 1, 30), np.linspace(1, 2, 30)])
    MLP(widths=(4,), epochs=250, validation=0.0, polish=0, restarts=2).fit(X, X[:, 0], progress=Recorder())
    # Two restarts of 250 epochs in chunks of 100: one task of 500 epochs, counted across restarts.
    assert seen == [("mlp", 500), 100, 200, 250, 350, 450, 500, "closed"]


def test_a_law_named_by_its_terms_round_trips_and_a_misspelt_one_is_refused():
    """physics.laws: every set of the polynomial law's terms has one name (term_law) that gives
    the set back (term_coefficients), in TERMS' order; other spellings are refused by name."""
    import itertools

    from hybridlab.physics.laws import FITTED_LAWS, TERMS, term_coefficients, term_law

    for size in range(len(TERMS) + 1):
        for chosen in itertools.combinations(TERMS, size):
            assert term_coefficients(term_law(chosen)) == chosen
    assert term_law(()) == "none" and term_law(("c", "k")) == "linear+quadratic"
    assert [term_coefficients(law) for law in FITTED_LAWS] == [(), ("k",), ("c",), ("k", "c")]
    for bad in ("quadratic+linear", "linear+linear", "drag", ""):
        with pytest.raises(ValueError, match="law = "):
            term_coefficients(bad)
    with pytest.raises(ValueError, match="coefficients = 'kc'"):
        term_law("kc")
