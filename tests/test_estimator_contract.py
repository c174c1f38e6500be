"""The estimator contract, checked on every loadable class (in the spirit of scikit-learn's
estimator checks): keyword-only hyperparameters, each with a declared constraint; fit returns
self; a model not yet fitted says so; get_params/set_params/clone round trip; save → load in
another directory gives the same predictions and intervals, bit for bit; a bad hyperparameter
and bad data give a ValueError that names them; a failed fit leaves the model unfitted."""

import inspect
import subprocess
import sys

import jax
import numpy as np
import pytest

import hybridlab.dynamics
import hybridlab.forecasting
import hybridlab.inverse.learned
import hybridlab.inverse.regularisation
import hybridlab.models
import hybridlab.operators
import hybridlab.solvers
from hybridlab.data import simulate_tracks
from hybridlab.estimators import LOADABLE, WithInterval, load
from hybridlab.physics import LinearDrag, Projectile, QuadraticDrag

SHOTS = Projectile(LinearDrag(0.2), mass=1.0)
BASEBALL = Projectile(QuadraticDrag(1.2e-3), mass=0.145)


def _shots():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(5, 15, 16), rng.uniform(0.2, 1.3, 16)])
    return (X, np.asarray(SHOTS.range(X[:, 0], X[:, 1])) + rng.normal(0, 0.05, 16)), (X[:4],)


def _tracks():
    tracks = simulate_tracks(BASEBALL, 3, 8, (30, 50), (0.3, 1.0), 0.05, jax.random.key(0))
    return (tracks,), (tracks,)


def _evenly_spaced():
    tracks = simulate_tracks(BASEBALL, 12, 2, (30, 50), (0.3, 1.0), 0.05, jax.random.key(0), step=0.1)
    counts = np.bincount(tracks.track)
    return (tracks,), (tracks.where(np.concatenate([np.arange(c) < 8 for c in counts])), 3)


def _functions():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(12, 8))
    Y = np.stack([np.cumsum(W, axis=1), np.cumsum(W**2, axis=1)], axis=-1) / 8
    return (W, Y), (W[:3],)


def _distances():
    return (np.linspace(10.0, 40.0, 8),), (np.array([15.0, 30.0]),)


def _regularisation():
    """Training problems of a learned regulariser: a forward map (12, 4), six smooth winds and
    their noisy tracks; it predicts the winds of two of them."""
    rng = np.random.default_rng(2)
    pa = rng.normal(size=(12, 4))
    winds = np.cumsum(rng.normal(size=(6, 4)), axis=1)
    data = winds @ pa.T + rng.normal(0, 0.1, (6, 12))
    return (pa, 0.1, winds, data), (pa, data[:2], 0.1)


def _initial_value():
    """A shot put launched at (10, 10) m/s, solved over 1.5 s; positions at three times."""
    return (1.5, (10.0, 10.0)), (np.array([0.0, 0.7, 1.5]),)


def _boundary_value():
    """A shot put from the ground to (12, 3) m in 1.5 s; positions at three times."""
    return (1.5, (12.0, 3.0)), (np.array([0.0, 0.7, 1.5]),)


def _fitted_mlp():
    X, y = _shots()[0]
    return hybridlab.models.MLP(widths=(4,), epochs=5, validation=0.0, polish=0).fit(X, y)


NETWORK = {"epochs": 3, "learning_rate": 1e-2}
#: For each loadable class: a small model (fast to fit), its data, and what it predicts on.
CASES = {
    "nearest": (lambda: hybridlab.models.NearestNeighbour(k=2), _shots),
    "linear": (lambda: hybridlab.models.LinearRegression(), _shots),
    "basis": (lambda: hybridlab.models.BasisRegression(degree=1, harmonics=1, folds=3), _shots),
    "mlp": (lambda: hybridlab.models.MLP(widths=(4,), epochs=5, validation=0.0, polish=0), _shots),
    "physics": (lambda: hybridlab.models.PhysicsFit({"drag": "linear", "mass": 1.0}, unknown=["k"], steps=20), _shots),
    "hybrid": (lambda: hybridlab.models.Hybrid(SHOTS, network=hybridlab.models.MLP(widths=(4,), epochs=5,
                                                                                   validation=0.0, polish=0)), _shots),
    "ude": (lambda: hybridlab.models.UDERange({"mass": 1.0}, widths=(4,), polish=0, law_steps=0, **NETWORK), _shots),
    "trajectory-fit": (lambda: hybridlab.dynamics.TrajectoryFit({"drag": "quadratic", "mass": 0.145}, steps=10),
                       _tracks),
    "neural-ode": (lambda: hybridlab.dynamics.NeuralODE({"mass": 0.145}, widths=(4,), **NETWORK), _tracks),
    "ude-tracks": (lambda: hybridlab.dynamics.UDE({"mass": 0.145}, widths=(4,), **NETWORK), _tracks),
    "linear-operator": (lambda: hybridlab.operators.LinearOperator(ridge=1e-3), _functions),
    "deeponet": (lambda: hybridlab.operators.DeepONet(width=4, basis=3, **NETWORK), _functions),
    "fno": (lambda: hybridlab.operators.FNO(width=4, modes=2, layers=1, **NETWORK), _functions),
    "esn": (lambda: hybridlab.forecasting.EchoStateNetwork(size=20), _evenly_spaced),
    "lstm": (lambda: hybridlab.forecasting.LSTM(hidden=4, window=8, warmup=2, epochs=2, free_epochs=1),
             _evenly_spaced),
    "learned-regulariser": (lambda: hybridlab.inverse.regularisation.LearnedRegulariser(steps=5),
                            _regularisation),
    "pinn": (lambda: hybridlab.solvers.PINN(SHOTS, widths=(4,), points=8, epochs=3, polish=2), _initial_value),
    "deep-ritz": (lambda: hybridlab.solvers.DeepRitz(SHOTS, widths=(4,), points=8, epochs=3, polish=2),
                  _boundary_value),
    "encoder-decoder": (lambda: hybridlab.inverse.learned.EncoderDecoder(_fitted_mlp(), width=4, depth=1,
                                                                         epochs=3, polish=0), _distances),
}
#: The first argument that may be given by position: the physics (or what stands for it).
FIRST = {"physics", "prior", "decoder"}


def test_every_loadable_class_has_a_case():
    assert hybridlab.models.REGISTRY  # reading it imports every rung (they are imported on first use)
    assert set(CASES) == set(LOADABLE)


def test_predict_and_its_interval_are_written_once():
    """Every model with an interval predicts through WithInterval.predict (a family gives its
    steps), and its interval through WithInterval.predict_interval; the forecasters only add
    their horizon to the latter's arguments."""
    assert hybridlab.models.REGISTRY
    with_interval = [cls for cls in LOADABLE.values() if issubclass(cls, WithInterval)]
    assert len(with_interval) >= 15
    for cls in with_interval:
        assert cls.predict is WithInterval.predict, cls.__name__
        forecaster = issubclass(cls, hybridlab.forecasting.base.Forecaster)
        assert (cls.predict_interval is WithInterval.predict_interval) != forecaster, cls.__name__


#: The classes whose fit solves ODEs: compiling them takes 6–16 s each, and the reload of each is
#: checked in test_dynamics.py and test_ude_range.py; their full contract runs with make test-all.
SOLVES = {"ude", "trajectory-fit", "neural-ode", "ude-tracks"}


def _fitted_cases():
    return [pytest.param(name, marks=pytest.mark.slow) if name in SOLVES else name for name in sorted(CASES)]


@pytest.fixture(scope="module", params=_fitted_cases())
def case(request):
    make, data = CASES[request.param]
    train, query = data()
    return make, train, query


def _predictions(model, query):
    """Predictions and, where the model has one, its 90 % interval (None where it says it has none,
    or where the class has no intervals at all: the learned regulariser, the network solvers)."""
    predicted = model.predict(*query)
    if not hasattr(model, "predict_interval"):
        return predicted, None
    try:
        interval = model.predict_interval(*query)
    except ValueError as error:
        assert "no predictive interval" in str(error)
        interval = None
    return predicted, interval


@pytest.mark.parametrize("name", sorted(CASES))
def test_hyperparameters_are_keyword_only_and_each_is_declared(name):
    cls = LOADABLE[name]
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    positional = [p.name for p in parameters if p.kind != inspect.Parameter.KEYWORD_ONLY]
    assert positional in ([], [parameters[0].name]) and set(positional) <= FIRST
    assert set(cls.constraints) == {p.name for p in parameters}


def test_fit_save_load_and_the_parameters_round_trip(case, tmp_path):
    make, train, query = case
    model = make()
    with pytest.raises(ValueError, match="not fitted yet"):
        model.predict(*query)
    params = model.get_params()
    assert type(model)(**params).get_params() == params
    assert model.set_params(**{name: getattr(model, name) for name in params}) is model
    assert model.get_params() == params
    assert model.fit(*train) is model
    clone = model.clone()
    assert clone.get_params() == params and not hasattr(clone, "n_features_")
    model.save(tmp_path / "saved")
    again = load(tmp_path / "saved")
    assert type(again) is type(model) and again.get_params() == params
    for ours, theirs in zip(_predictions(model, query), _predictions(again, query)):
        if ours is None:
            assert theirs is None
        else:
            np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_bad_hyperparameter_is_named_and_changes_nothing(name):
    model = CASES[name][0]()
    for name in model.constraints:
        with pytest.raises(ValueError, match=f"^{name} = "):
            type(model)(**{**model.get_params(), name: object()})
        before = model.get_params()
        with pytest.raises(ValueError, match=f"^{name} = "):
            model.set_params(**{name: object()})
        assert model.get_params() == before
    with pytest.raises(ValueError, match="'bogus': not a parameter"):
        model.set_params(bogus=1)


#: Data each kind of model must refuse: a NaN among the launches, the functions or the targets;
#: an array where tracks are due.
BAD_DATA = {_shots: (np.array([[10.0, 0.5], [np.nan, 0.7]]), np.ones(2)), _tracks: (np.zeros((4, 2)),), _evenly_spaced: (np.zeros((4, 2)),),
            _functions: (np.array([[0.0, np.nan, 1.0]]), np.zeros((1, 3, 2))), _distances: (np.array([10.0, np.nan]),),
            _regularisation: (np.full((12, 4), np.nan), 0.1, np.zeros((6, 4)), np.zeros((6, 12))),
            _initial_value: (1.5, (np.nan, 10.0)), _boundary_value: (1.5, (12.0, -3.0))}
#: What the refusal names: the argument, and the element where one is bad.
NAMED = {_shots: r"^X\[1, 0\] = nan", _tracks: r"^tracks must be a hybridlab\.data\.Tracks",
         _evenly_spaced: r"^tracks must be a hybridlab\.data\.Tracks", _functions: r"^W\[0, 1\] = nan",
         _distances: r"^distances\[1\] = nan", _regularisation: r"^pa: must be a finite",
         _initial_value: r"^velocity = \(nan, 10\.0\)", _boundary_value: r"^to = \(12, -3\): the target is below"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_data_is_refused_and_leaves_the_model_unfitted(name):
    make, data = CASES[name]
    model = make()
    model.n_features_, model.context_, model.stale_ = 2, {}, "from an earlier fit"  # as if fitted before
    with pytest.raises(ValueError, match=NAMED[data]):
        model.fit(*BAD_DATA[data])
    with pytest.raises(ValueError, match="not fitted yet"):
        model._check_fitted()
    assert not hasattr(model, "stale_")  # every fitted attribute gone, not n_features_ alone


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_changed_hyperparameter_unfits_and_an_unchanged_one_does_not(name):
    make, _ = CASES[name]
    model = make()
    model.n_features_ = 2  # as if fitted
    model.set_params(**{key: getattr(model, key) for key in model.param_names()})
    assert model.n_features_ == 2
    seed = "seed" if "seed" in model.constraints else None
    if seed is not None:
        model.set_params(seed=getattr(model, seed) + 1)
        assert not hasattr(model, "n_features_")


@pytest.mark.parametrize("name,value", [("seed", v) for v in (-1, 2**63, 10**400, 2.5, True, np.array([0, 1]), "0",
                                                                  None)]
                         + [("ridge", v) for v in (10**400, -1.0, float("nan"), True, np.array([0.1]), "0", None)])
def test_a_bad_number_is_named_whatever_its_kind_and_changes_nothing(name, value):
    model = hybridlab.forecasting.EchoStateNetwork()
    with pytest.raises(ValueError, match=f"^{name} = "):
        model.set_params(**{name: value})
    assert getattr(model, name) == getattr(hybridlab.forecasting.EchoStateNetwork(), name)


def test_a_model_of_a_room_above_loads_in_a_fresh_process(tmp_path):
    """load imports the module the record names: an encoder–decoder (inverse/, above the rungs)
    saved here loads in a process that imported nothing but the estimator room."""
    model = CASES["encoder-decoder"][0]().fit(*_distances()[0])
    model.save(tmp_path / "aim")
    code = (f"from hybridlab.estimators import load; import numpy; "
            f"print(repr(load({str(tmp_path / 'aim')!r}).predict(numpy.array([15.0, 30.0])).tolist()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert eval(done.stdout) == model.predict(np.array([15.0, 30.0])).tolist()


@pytest.mark.parametrize("module", ["json.tool", "this", "hybridlab.__main__", "hybridlab.cli.__main__",
                                    "hybridlab.nowhere", "hybridlab.models.nowhere.deeper", "hybridlab..models", 7])
def test_a_record_naming_another_module_is_refused_without_importing_it(module):
    from hybridlab.estimators import from_params

    for name in ("json.tool", "this", "hybridlab.__main__", "hybridlab.cli.__main__"):
        sys.modules.pop(name, None)  # so that an import of it would show
    before = set(sys.modules)
    with pytest.raises(ValueError, match="unknown model 'made-up'"):
        from_params({"model": "made-up", "module": module, "params": {}})
    assert set(sys.modules) == before


def test_a_grey_boxs_default_unknowns_are_its_laws_coefficients_that_it_gives():
    """unknown=None (PhysicsFit, TrajectoryFit, the inverse PINN): the drag law's coefficients
    the physics gives a value > 0 — all of them where a spec names none; a polynomial law's
    terms left at 0 are absent; no drag is refused in one line."""
    from hybridlab.dynamics import TrajectoryFit
    from hybridlab.models import PhysicsFit
    from hybridlab.physics import PolynomialDrag

    assert PhysicsFit().unknowns() == ("k",) and TrajectoryFit().unknowns() == ("c",)
    assert PhysicsFit(Projectile(PolynomialDrag(k=0.3), mass=7.26)).unknowns() == ("k",)
    assert PhysicsFit({"drag": {"law": "polynomial", "k": 0.3, "c": 1e-3}}).unknowns() == ("k", "c")
    assert TrajectoryFit({"drag": "polynomial"}).unknowns() == ("b", "k", "c", "d")
    for physics in (Projectile(mass=0.145), {"drag": "none"}, {"mass": 1.0}, {"drag": {"law": "linear", "k": 0.0}}):
        with pytest.raises(ValueError, match="^unknown = None: .* no drag coefficient to fit"):
            TrajectoryFit(physics).unknowns()
    assert TrajectoryFit(Projectile(mass=0.145), unknown=[]).unknowns() == ()
