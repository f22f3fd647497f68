"""Development: the web server and the task consumer as one command; Ctrl+C stops both.

`make run` uses it. Each child runs in its own process group, so stopping reaches every process
it started (runserver's autoreloader runs the site in a child of its own). If either child
exits by itself, the other is stopped too and the command fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_WAIT_SECONDS = 10


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop


class Command(BaseCommand):
    help = "Run the development web server and the task consumer together (Ctrl+C stops both)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--noreload", action="store_true", help="Do not restart the web server on changes."
        )

    def handle(self, *args, addrport: str, noreload: bool, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        web = [*manage, "runserver", addrport, *(["--noreload"] if noreload else [])]
        # Catch the stop signals before starting the children: a caught signal is reset to its
        # default in a child, an ignored one (a job started with & in a script) would stay
        # ignored until the child installs its own handler.
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGINT, _raise_stop)
        children: dict[str, tuple[subprocess.Popen, int]] = {}
        failed = None
        try:
            # Our own interpreter and manage.py, no outside input. SIGINT is the consumer's
            # graceful stop (it finishes the email it is sending).
            for name, command, stop_signal in (
                ("consumer", [*manage, "run_huey"], signal.SIGINT),
                ("web", web, signal.SIGTERM),
            ):
                child = subprocess.Popen(command, start_new_session=True)  # noqa: S603
                children[name] = (child, stop_signal)
                self.stdout.write(f"serve: {name} started (pid {child.pid})")
                self.stdout.flush()
            pid, _ = os.wait()  # until a child exits by itself, or we are told to stop
            failed = next(name for name, (child, _) in children.items() if child.pid == pid)
        except (_Stop, KeyboardInterrupt):
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self._stop_all(children)
        if failed:
            raise CommandError(f"the {failed} process stopped by itself; stopped the other too")
        self.stdout.write("serve: stopped")

    def _stop_all(self, children) -> None:
        for child, stop_signal in children.values():
            self._signal_group(child, stop_signal)
        for child, _ in children.values():
            try:
                child.wait(timeout=STOP_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self._signal_group(child, signal.SIGKILL)
                child.wait()
            # runserver's autoreloader leaves its site process in the same group: end it too.
            self._signal_group(child, signal.SIGKILL)

    @staticmethod
    def _signal_group(child: subprocess.Popen, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)
