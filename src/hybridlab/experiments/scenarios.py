"""Named scenarios: the sources' experiments, each with its truth, data, splits and rungs.

A scenario says what is true, how the data are drawn (training region, noise), where the
extrapolation test lies, and which models climb the ladder on it. Regions and curve angles are
given in degrees, as the sources give them; the launches X handed to the models hold radians.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import numpy as np

from hybridlab.data import add_noise, from_degrees, grid_design, holdout, uniform_design
from hybridlab.experiments.aiming import AimingCase
from hybridlab.experiments.fragility import true_range
from hybridlab.models import (MLP, BasisRegression, Hybrid, LinearRegression, NearestNeighbour, PhysicsFit,
                              Regressor, UDERange)
from hybridlab.models.hybrid import NETWORK_WIDTHS
from hybridlab.physics import LinearDrag, Projectile, QuadraticDrag

INTERP_FRACTION = 0.2  # of the shots drawn in the training region, held out for the interpolation test


@dataclass(frozen=True)
class Split:
    """Launches X (n, d), measurements y (n,) and the noise-free truth (n,)."""

    X: np.ndarray
    y: np.ndarray
    true: np.ndarray


@dataclass(frozen=True)
class ProjectileScenario:
    """Range D(v, θ) of a known projectile, learned from noisy shots.

    Training region: v ∈ ``speed`` (m/s), θ ∈ ``angle`` (deg); ``n`` shots drawn uniformly, of
    which INTERP_FRACTION are held out; the extrapolation test draws ``n_extrap`` shots from
    v ∈ ``extrap_speed``, θ ∈ ``extrap_angle``. Noise: additive Gaussian σ = ``noise`` m.
    """

    name: str
    description: str
    truth: Projectile
    speed: tuple[float, float]
    angle: tuple[float, float]
    extrap_speed: tuple[float, float]
    extrap_angle: tuple[float, float]
    noise: float
    ladder: Callable[[bool, int], dict[str, Regressor]]
    n: int = 1000
    n_extrap: int = 500
    quick_n: int = 300
    curve_angles: tuple[float, ...] = (15.0, 45.0, 75.0)
    aiming: AimingCase | None = None
    inputs: tuple[str, ...] = ("speed", "angle")
    output: str = "distance"
    units: dict = field(default_factory=lambda: {"speed": "m/s", "angle": "deg", "distance": "m"})

    def projectile(self) -> Projectile:
        return self.truth

    def _region(self, speed, angle, n, key, noise_key):
        X = np.column_stack(uniform_design(n, speed, from_degrees(angle), key))
        true = self.true(X)
        return Split(X, add_noise(true, self.noise, noise_key), true)

    def true(self, X) -> np.ndarray:
        """The noise-free range (m) of launches X, in blocks of one size (the last padded), so
        that the splits, curves, grid and fragility box of a run share one compiled solve
        instead of compiling one per array size (seconds each for an ODE)."""
        return true_range(self.projectile(), X)

    def splits(self, seed: int, quick: bool) -> dict[str, Split]:
        """train, interp (held out of the same draw) and extrap, from one seed."""
        keys = jax.random.split(jax.random.key(seed), 4)
        n = self.quick_n if quick else self.n
        region = self._region(self.speed, self.angle, n, keys[0], keys[1])
        kept, held = holdout(n, INTERP_FRACTION, seed)
        extrap = self._region(self.extrap_speed, self.extrap_angle, max(n // 2, 1) if quick else self.n_extrap,
                              keys[2], keys[3])
        take = lambda s, i: Split(s.X[i], s.y[i], s.true[i])  # noqa: E731
        return {"train": take(region, kept), "interp": take(region, held), "extrap": extrap}

    def grid(self, quick: bool) -> np.ndarray:
        """The map's launches: speed over training + extrapolation range, angle over both."""
        n = 30 if quick else 60
        speed = (min(self.speed[0], self.extrap_speed[0]), max(self.speed[1], self.extrap_speed[1]))
        angle = (min(self.angle[0], self.extrap_angle[0]), max(self.angle[1], self.extrap_angle[1]))
        v, theta = grid_design(speed, from_degrees(angle), n, n)
        return np.column_stack([v, theta])

    def curves(self, quick: bool) -> np.ndarray:
        """Launches along v at fixed angles, from the training region into the extrapolation one."""
        v = np.linspace(self.speed[0], max(self.speed[1], self.extrap_speed[1]), 60 if quick else 200)
        return np.concatenate([np.column_stack([v, np.full_like(v, from_degrees(a))]) for a in self.curve_angles])

    def regions(self) -> tuple[dict, dict]:
        return ({"speed": list(self.speed), "angle": list(self.angle)},
                {"speed": list(self.extrap_speed), "angle": list(self.extrap_angle)})


@dataclass(frozen=True)
class CuberootScenario:
    """The autograd lecture: y = x^(1/3) on 50 points of [0, 1], no noise; extrapolation on [1, 10]."""

    name: str = "cuberoot"
    description: str = ("The autograd lecture: y = x^(1/3) on 50 equally spaced points of [0, 1] (no noise; 40 for training, "
                        "10 held out), "
                        "a 1-3-1 tanh network fitted by Levenberg-Marquardt and by Adam; extrapolation to [1, 10].")
    inputs: tuple[str, ...] = ("x",)
    output: str = "y"
    units: dict = field(default_factory=lambda: {"x": "", "y": ""})

    @staticmethod
    def true(X) -> np.ndarray:
        return np.cbrt(X[:, 0])

    def splits(self, seed: int, quick: bool) -> dict[str, Split]:
        del quick
        x = np.linspace(0.0, 1.0, 50)[:, None]
        kept, held = holdout(50, INTERP_FRACTION, seed)
        extrap = np.linspace(1.0, 10.0, 50)[:, None]
        y = self.true(x)
        return {"train": Split(x[kept], y[kept], y[kept]), "interp": Split(x[held], y[held], y[held]),
                "extrap": Split(extrap, self.true(extrap), self.true(extrap))}

    def grid(self, quick: bool):
        return None

    def curves(self, quick: bool) -> np.ndarray:
        return np.linspace(0.0, 10.0, 101)[:, None]

    def regions(self) -> tuple[dict, dict]:
        return {"x": [0.0, 1.0]}, {"x": [1.0, 10.0]}

    @staticmethod
    def ladder(quick: bool, seed: int) -> dict[str, Regressor]:
        return {
            "nearest": NearestNeighbour(),
            "linear": LinearRegression(variables=("x",)),
            "basis": BasisRegression(variables=("x",), angles=(), degree=5, seed=seed),
            "mlp-lm": MLP(widths=(3,), optimiser="lm", lm_steps=1000, restarts=5, seed=seed),
            "mlp-adam": MLP(widths=(3,), optimiser="adam", learning_rate=1e-2, schedule="constant",
                            epochs=2000 if quick else 20_000, validation=0.0, patience=None, polish=0,
                            restarts=3, seed=seed),
        }


def _mlp(quick: bool, seed: int) -> MLP:
    return MLP(epochs=1500 if quick else 4000, seed=seed)


def _hybrid(prior: Projectile, quick: bool, seed: int) -> Hybrid:
    return Hybrid(prior, network=MLP(widths=NETWORK_WIDTHS, epochs=1500 if quick else 4000, seed=seed))


def _ude(mass: float, quick: bool, seed: int) -> UDERange:
    return UDERange({"mass": mass}, widths=(8, 8), epochs=50 if quick else 100, polish=60 if quick else 100,
                    seed=seed)


def _data_rungs(quick: bool, seed: int) -> dict[str, Regressor]:
    """The rungs that know no physics: nearest neighbour, linear, the default MLP."""
    return {"nearest": NearestNeighbour(), "linear": LinearRegression(), "mlp": _mlp(quick, seed)}


def _cannon_ladder(quick: bool, seed: int) -> dict[str, Regressor]:
    return {
        **_data_rungs(quick, seed),
        "mlp-blog": MLP.blog(seed=seed, epochs=300 if quick else 1000),
        "basis": BasisRegression(seed=seed),
        "physics": PhysicsFit(Projectile(g=5.0), unknown=["g"]),
        "hybrid": _hybrid(Projectile(g=5.0), quick, seed),
    }


SHOTPUT_MASS = 7.26


def _shotput_ladder(quick: bool, seed: int) -> dict[str, Regressor]:
    return {
        **_data_rungs(quick, seed),
        "basis": BasisRegression(seed=seed),
        "physics": PhysicsFit(Projectile(LinearDrag(1.0), mass=SHOTPUT_MASS)),
        "hybrid": _hybrid(Projectile(mass=SHOTPUT_MASS), quick, seed),
        "hybrid-k0.45": _hybrid(Projectile(LinearDrag(0.45), mass=SHOTPUT_MASS), quick, seed),
        "ude": _ude(SHOTPUT_MASS, quick, seed),
    }


BASEBALL_MASS = 0.145


def _baseball_ladder(quick: bool, seed: int) -> dict[str, Regressor]:
    return {
        **_data_rungs(quick, seed),
        "basis": BasisRegression(seed=seed),
        "physics": PhysicsFit(Projectile(QuadraticDrag(5e-4), mass=BASEBALL_MASS)),
        "hybrid": _hybrid(Projectile(mass=BASEBALL_MASS), quick, seed),
        "ude": _ude(BASEBALL_MASS, quick, seed),
    }


SCENARIOS = {
    "cannon": ProjectileScenario(
        name="cannon",
        description="The blog post's cannon: no drag, 1000 shots with v in [0, 10] m/s and angle in [0, 90] deg, "
        "additive noise 0.01 m clipped at 0; extrapolation to v in [10, 20] m/s.",
        truth=Projectile(), speed=(0.0, 10.0), angle=(0.0, 90.0), extrap_speed=(10.0, 20.0),
        extrap_angle=(0.0, 90.0), noise=0.01, ladder=_cannon_ladder),
    "shotput": ProjectileScenario(
        name="shotput",
        description="The lecture's shot put: linear (Stokes) drag k = 1.8 kg/s (its code's 4 × 0.45), m = 7.26 kg, "
        "1000 shots with v in [5, 85] m/s and angle in [5, 85] deg, noise 0.1 m; extrapolation to v in [85, 120] m/s.",
        truth=Projectile(LinearDrag(1.8), mass=SHOTPUT_MASS), speed=(5.0, 85.0), angle=(5.0, 85.0),
        extrap_speed=(85.0, 120.0), extrap_angle=(5.0, 85.0), noise=0.1, ladder=_shotput_ladder,
        aiming=AimingCase(distance=150.0, published=(75.28, 11.88), near=20.0, far=200.0, beyond=300.0)),
    "baseball": ProjectileScenario(
        name="baseball",
        description="A baseball: quadratic drag c = 9e-4 kg/m, m = 0.145 kg, 1000 shots with v in [10, 45] m/s and "
        "angle in [5, 60] deg, noise 0.1 m; extrapolation to v in [45, 60] m/s. The hybrid's prior is the wrong "
        "law (no drag).",
        truth=Projectile(QuadraticDrag(9e-4), mass=BASEBALL_MASS), speed=(10.0, 45.0), angle=(5.0, 60.0),
        extrap_speed=(45.0, 60.0), extrap_angle=(5.0, 60.0), noise=0.1, ladder=_baseball_ladder,
        curve_angles=(10.0, 30.0, 50.0),
        # Aimed through the MLP only: an encoder through the physics fit's ODE range trains for
        # some five minutes here, past this run's budget (benchmarks/aim_targets.py measures it).
        aiming=AimingCase(distance=100.0, published=None, near=20.0, far=100.0, beyond=140.0, decoders=("mlp",))),
    "cuberoot": CuberootScenario(),
}


@dataclass(frozen=True)
class JobScenario:
    """A scenario that is not a ladder of rungs: ``job`` ("module:function") writes its run
    directory and returns its metrics; imported when run, so that listing the scenarios imports
    none of their rooms."""

    name: str
    description: str
    job: str

    def run(self, out: str | None, seed: int, quick: bool, echo=print) -> dict:
        module, function = self.job.split(":")
        return getattr(importlib.import_module(module), function)(out, seed, quick, echo=echo)


SCENARIOS |= {
    "equations": JobScenario("equations", "The networks that solve the equations of one shot (PINN, Deep Ritz, the "
                             "inverse PINN) beside the exact solver.", "hybridlab.experiments.equations:run_equations"),
    "wind": JobScenario("wind", "Neural operators from a wind profile to a trajectory (FNO, DeepONet, the linear "
                        "operator) beside the physics.", "hybridlab.experiments.wind:run_wind"),
    "gust": JobScenario("gust", "Recovering a gust from a track: least squares, Tikhonov, total variation and a "
                        "learned regulariser, λ chosen without the truth.", "hybridlab.experiments.gust:run_gust"),
    "forecast": JobScenario("forecast", "Forecasting a track from its past: the constant-acceleration fit, an echo "
                            "state network and an LSTM beside the neural ODE, the UDE and the grey box.",
                            "hybridlab.experiments.forecast:run_forecast"),
}
#: The scenarios that are a ladder of rungs (``run``, ``sweep``).
LADDERS = {name: spec for name, spec in SCENARIOS.items() if not isinstance(spec, JobScenario)}


def truth_label(scenario) -> str:
    """What generated the data, in words."""
    if isinstance(scenario, ProjectileScenario):
        return scenario.projectile().label()
    return "y = x^(1/3)"
