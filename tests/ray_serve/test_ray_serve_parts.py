"""The parts of `serve --ray` that need no cluster: the config's ray section, the one-line
error where Ray Serve is not installed, and a daemon without --ray that never imports Ray."""

from __future__ import annotations

from fixture_daemons import write_config
from fixture_ray import run_python

from bridge.config import RayConfig, load_config


def test_the_ray_section_sizes_each_models_deployment(tmp_path):
    assert load_config(write_config(tmp_path)).ray == RayConfig()  # off unless asked
    ray = {"enabled": True, "address": "auto", "replicas": 2, "model_replicas": {"drums": 4}}
    config = load_config(write_config(tmp_path, ray={**ray, "cpus": 2, "retries": 0}))
    assert (config.ray.enabled, config.ray.address, config.ray.cpus) == (True, "auto", 2.0)
    assert (config.ray.replicas_of("fixture"), config.ray.replicas_of("drums")) == (2, 4)


def test_serve_with_ray_but_without_ray_installed_is_one_clear_error(tmp_path):
    script = (
        "import sys; sys.modules['ray'] = None  # as if not installed\n"
        "from bridge.frontends.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = run_python(script, "serve", "--config", str(write_config(tmp_path)), "--ray", "local")
    assert done.returncode == 1, done.stderr
    assert "magenta-bridge: error: --ray needs Ray Serve: pip install -e '.[ray]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_daemon_without_ray_imports_no_ray_module(tmp_path):
    script = (
        "import sys\n"
        "from bridge.config import load_config\n"
        "from bridge.frontends.daemon import Daemon\n"
        "Daemon(load_config(sys.argv[1]), announce=lambda _: None).close()\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    done = run_python(script, str(write_config(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
