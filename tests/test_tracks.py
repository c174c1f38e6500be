"""Trajectory data (issue 11 §1): simulated tracks against the physics, files read back, the
validation rules with file, line and column, and the shipped real drops."""

import jax
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hybridlab.data import Tracks, load_drops, read_tracks, simulate_tracks, split_time, uniform_design, write_tracks
from hybridlab.data import tracks as tracks_module
from hybridlab.data.drops import benchmark_split
from hybridlab.physics import LinearDrag, PolynomialDrag, Projectile, QuadraticDrag


def _scipy_path(p_mass, k, c, g, v, angle, t):
    """(x, y) at times t under F = −(k + c|v|) v, by SciPy's DOP853 at rtol 1e-12."""
    def rhs(_, s):
        speed = np.hypot(s[2], s[3])
        drag = (k + c * speed) / p_mass
        return [s[2], s[3], -drag * s[2], -g - drag * s[3]]

    sol = solve_ivp(rhs, (0, t[-1]), [0, 0, v * np.cos(angle), v * np.sin(angle)], t_eval=t, rtol=1e-12,
                    atol=1e-12, method="DOP853")
    return sol.y[0], sol.y[1]


def test_simulated_tracks_follow_the_physics_from_launch_to_landing():
    p = Projectile(LinearDrag(k=0.02), mass=0.145)
    tracks = simulate_tracks(p, 3, 6, (30, 40), (0.3, 0.9), 0.0, jax.random.key(1))
    assert tracks.kind == "shot" and len(tracks) == 3 and tracks.position.shape == (18, 2)
    for i in range(3):
        rows = tracks.rows(str(i))
        t, (x, y) = tracks.t[rows], tracks.position[rows].T
        assert t[0] == 0 and x[0] == 0 and y[0] == 0 and abs(y[-1]) < 1e-6  # from launch to the ground
        np.testing.assert_allclose(np.diff(t), t[-1] / 5, rtol=1e-12)  # evenly spaced
    # Noise: σ = 5 cm around the noiseless tracks.
    noisy = simulate_tracks(p, 3, 6, (30, 40), (0.3, 0.9), 0.05, jax.random.key(1))
    assert 0.02 < np.std(noisy.position - tracks.position) < 0.09


def test_simulated_tracks_in_blocks_are_scipys_paths(monkeypatch):
    # Quadratic drag (one ODE solve per track), 5 tracks in blocks of 2 (the last one padded):
    # every point of every track is SciPy's DOP853 path at its time, and each ends on the ground.
    monkeypatch.setattr(tracks_module, "SIMULATE_BLOCK", 2)
    p = Projectile(QuadraticDrag(c=1.2e-3), mass=0.145)
    tracks = simulate_tracks(p, 5, 7, (30, 50), (0.3, 1.0), 0.0, jax.random.key(4))
    v, angle = (np.asarray(a) for a in uniform_design(5, (30, 50), (0.3, 1.0), jax.random.split(jax.random.key(4))[0]))
    for i in range(5):
        rows = tracks.rows(str(i))
        t, position = tracks.t[rows], tracks.position[rows]
        assert t[0] == 0 and abs(position[-1, 1]) < 1e-8
        np.testing.assert_allclose(position, np.c_[_scipy_path(0.145, 0.0, 1.2e-3, float(p.g), v[i], angle[i], t)],
                                   atol=1e-7)


def test_polynomial_drag_reproduces_the_linear_and_quadratic_laws_and_scipy():
    t = np.linspace(0.0, 3.0, 7)
    for k, c in ((0.3, 0.0), (0.0, 2e-3), (0.1, 1e-3)):
        p = Projectile(PolynomialDrag(k=k, c=c), mass=0.5)
        x, y = p.trajectory(30.0, 0.7, t)
        xs, ys = _scipy_path(0.5, k, c, float(p.g), 30.0, 0.7, t)
        np.testing.assert_allclose(np.c_[x, y], np.c_[xs, ys], atol=1e-7)
    x1, y1 = Projectile(PolynomialDrag(k=0.3), mass=0.5).trajectory(30.0, 0.7, t)
    x2, y2 = Projectile(LinearDrag(k=0.3), mass=0.5).trajectory(30.0, 0.7, t)  # closed form
    np.testing.assert_allclose(np.c_[x1, y1], np.c_[x2, y2], atol=1e-8)
    assert np.all(np.asarray(PolynomialDrag(b=1.0).force(0.0, 0.0)) == 0)  # at rest: no force, no NaN


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tracks_files_read_back_exactly(tmp_path, suffix):
    p = Projectile(LinearDrag(k=0.2), mass=1.0)
    tracks = simulate_tracks(p, 4, 5, (10, 20), (0.2, 1.2), 0.1, jax.random.key(2))
    write_tracks(tmp_path / f"t{suffix}", tracks)
    back = read_tracks(tmp_path / f"t{suffix}")
    assert back.names == tracks.names and np.array_equal(back.position, tracks.position)
    assert np.array_equal(back.t, tracks.t) and np.array_equal(back.track, tracks.track)


@pytest.mark.parametrize("text, message", [
    ("shot,t,x,y\na,0,0,0\na,0,1,1\n", "line 3, column 't': '0' s is not after the time before it"),
    ("shot,t,x,y\na,0,0,0\nb,0,1,1\na,1,1,1\n", "line 4, column 't': '1' s: this track's rows were interrupted"),
    ("shot,t,x,y\na,0,zero,0\n", "line 2, column 'x': 'zero' is not a number"),
    ("shot,t,x\na,0,0\n", "column 'y': no such column"),
    ("id,t,x,y\na,0,0,0\n", "no 'shot' or 'ball' column"),
    ("ball,drop,t,height\nbaseball,1,0,inf\n", "line 2, column 'height': 'inf' is not finite"),
])
def test_bad_tracks_files_name_the_file_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match="bad.csv") as error:
        read_tracks(path)
    assert message in str(error.value)


def test_the_real_drops_ship_with_their_balls_and_licence():
    drops, balls = load_drops()
    assert drops.kind == "drop" and len(drops) == 18 and len(drops.t) == 849 and drops.velocity.shape == (849, 1)
    assert balls["baseball"].mass == pytest.approx(0.141748) and np.isnan(balls["volleyball"].mass)
    assert set(name.split("/")[0] for name in drops.names) == set(balls)
    from importlib import resources
    folder = resources.files("hybridlab.data") / "ball_drops"
    assert "Copyright (c) 2020 Brian de Silva" in (folder / "LICENSE").read_text()
    assert "doi:10.3389/frai.2020.00025" in (folder / "README.md").read_text()
    split = benchmark_split(drops)
    fitted, tested = split["golf_ball"]
    assert fitted.t.max() <= 2.0 < tested.t.min() and fitted.names == ("golf_ball/1",)


def test_split_and_select_keep_each_track_whole_and_in_order():
    tracks = Tracks("drop", ("a/1", "b/1"), np.array([0, 0, 0, 1, 1]), np.array([0.0, 1, 2, 0, 3]),
                    np.arange(5.0)[:, None])
    before, after = split_time(tracks, 1.5)
    assert before.names == ("a/1", "b/1") and after.names == ("a/1", "b/1") and len(after.t) == 2
    assert tracks.select(["b/1"]).t.tolist() == [0, 3]
    with pytest.raises(ValueError, match="times must increase"):
        Tracks("drop", ("a/1",), np.zeros(2, int), np.array([1.0, 1.0]), np.zeros((2, 1)))
