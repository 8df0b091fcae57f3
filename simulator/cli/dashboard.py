"""``dashboard``: the what-if dashboard in the browser (a local Streamlit server).

Arguments are checked before anything starts (scenario files exist and validate, the host is an address
of this machine, the port is free); then ``streamlit run`` of :mod:`simulator.dashboard.app` runs as a
child process, headless (no browser opened), without usage statistics, bound to 127.0.0.1 unless
``--host`` says otherwise. Ctrl-C or SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from ..errors import ChannelError
from ..scenario import load_scenario
from .common import add_replication_args, console

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dashboard",
        help="start the what-if dashboard in the browser (local web app)",
        description="Start a local web app (Streamlit) to explore scenarios without editing YAML: choose a "
        "scenario (from SCENARIO files, else scenarios/*.yaml) or upload one, see its answers at once, build a "
        "variant with sliders and levers, compared on the same random draws, size it and download it. "
        f"Bound to {DEFAULT_HOST} unless --host says otherwise; Ctrl-C stops it.",
    )
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario files to choose from")
    p.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}, this machine only)"
    )
    p.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    add_replication_args(p, replications=100)
    p.set_defaults(handler=run_dashboard)


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} must be between 1 and 65535")
    return value


def check_host(host: str) -> str:
    """The host as an address this machine can listen on (an IP address or a name resolving to one)."""
    text = host.strip()
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        pass
    if not text or any(c.isspace() for c in text) or "/" in text or ":" in text:
        raise ChannelError(f"--host {host!r}: not an address; give an IP address such as 127.0.0.1, or a host name")
    try:
        socket.getaddrinfo(text, None)
    except OSError:
        raise ChannelError(f"--host {host!r}: this machine cannot resolve that name; give an IP address") from None
    return text


def check_port_free(host: str, port: int) -> None:
    """Refuse a port something else is listening on, before starting the server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ChannelError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); choose another port"
            ) from None


def check_scenarios(paths: Sequence[str]) -> list[Path]:
    """Every named file exists and validates (its one-line error otherwise)."""
    out = []
    for p in paths:
        try:
            load_scenario(p)
        except ChannelError as exc:
            raise ChannelError(f"{p}: {exc}") from None  # as ``run.py validate`` names the file
        out.append(Path(p).resolve())
    return out


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics, no file watching, bound to ``host``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--browser.serverAddress",
        host,
        "--global.developmentMode",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        "none",
    ]


def child_environment(scenarios: Sequence[Path], replications: int, seed: int) -> dict[str, str]:
    """The server's environment: the same ``simulator`` package as this process, and the arguments."""
    from ..dashboard import logic

    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
    env[logic.ENV_SCENARIOS] = os.pathsep.join(str(p) for p in scenarios)
    env[logic.ENV_REPLICATIONS] = str(replications)
    env[logic.ENV_SEED] = str(seed)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def run_dashboard(args: argparse.Namespace) -> int:
    scenarios = check_scenarios(args.scenarios)
    host = check_host(args.host)
    check_port_free(host, args.port)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"dashboard at http://{shown}:{args.port} (Ctrl-C to stop)")
    child = subprocess.Popen(
        streamlit_command(host, args.port),
        env=child_environment(scenarios, args.replications, args.seed),
        stdin=subprocess.DEVNULL,
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        code = child.wait()
    except KeyboardInterrupt:
        _stop(child)
        console.print("dashboard stopped")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code != 0:
        print(f"error: the dashboard server stopped with exit code {code}", file=sys.stderr)
        return 1
    return 0


def _stop(child: subprocess.Popen) -> None:
    """Ask the server to stop (as Ctrl-C would), then insist."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
