import pytest

from nas.errors import NasError
from nas.search._runner import load_runner, runner_names


def test_shipped_profiles_load():
    assert {"local", "ray-local", "ray-cluster"} <= set(runner_names())
    assert load_runner("local").kind == "optuna"
    ray = load_runner("ray-cluster")
    assert ray.kind == "ray" and ray.address == "auto" and ray.resources_per_trial["cpu"] > 0
    assert load_runner("runners/ray-local.yaml").name == "ray-local"


def test_profile_from_a_path(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text("kind: ray\naddress: 127.0.0.1:6379\nmax_concurrent: 2\n")
    prof = load_runner(str(p))
    assert (prof.name, prof.address, prof.max_concurrent) == ("mine", "127.0.0.1:6379", 2)


def test_bad_profiles(tmp_path):
    with pytest.raises(NasError, match="no such profile; use one of"):
        load_runner("slurm")
    p = tmp_path / "bad.yaml"
    p.write_text("kind: ray\nmax_concurent: 2\n")
    with pytest.raises(NasError, match="runner profile .*bad.yaml"):
        load_runner(str(p))


def test_the_library_chooses_the_runner_from_the_settings(tiny, monkeypatch):
    """``run_search`` itself runs a Ray profile on Ray (the CLI does not choose)."""
    import nas.search._ray as ray_runner
    from nas.search import run_search

    seen = []
    monkeypatch.setattr(ray_runner, "run_search_ray",
                        lambda settings, profile, quiet=False, score=None: seen.append(
                            (settings.runner, profile.kind)) or "ray ran")
    assert run_search(tiny(runner="ray-local"), quiet=True) == "ray ran"
    assert seen == [("ray-local", "ray")]
