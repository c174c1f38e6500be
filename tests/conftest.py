import hypothesis

import hybridlab  # noqa: F401  (switches JAX to float64 before any test builds an array)

# JAX compiles on first call; a per-example deadline would time compilation, not the code.
hypothesis.settings.register_profile("hybridlab", deadline=None, max_examples=40, derandomize=True)
hypothesis.settings.load_profile("hybridlab")
