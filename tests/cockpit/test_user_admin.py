"""``run_cockpit.py user …`` as an administrator runs it, on a chDB warehouse: users added, listed, their kiosk
token issued; bad names, roles and passwords refused with one line and exit code 2, nothing written."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def user_cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env["COCKPIT_WAREHOUSE_URL"] = f"chdb://{tmp_path}/wh"

    def run(*args: str, password: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "run_cockpit.py", "user", *args], cwd=ROOT, env=env, text=True,
                              input=password + "\n", capture_output=True, timeout=120)
    return run


def test_users_are_added_listed_and_given_a_kiosk_token(user_cli):
    added = user_cli("add", "li.si", "--role", "duty", "--display-name", "李四", "--password-stdin",
                     password="correct horse battery")
    assert added.returncode == 0 and "added li.si (duty)" in added.stdout
    assert user_cli("add", "wallpc", "--role", "wall", "--password-stdin", password="another long one").returncode == 0
    token = user_cli("token", "wallpc")
    assert token.returncode == 0 and "/wall?kiosk=" in token.stdout
    listed = user_cli("list").stdout.splitlines()
    assert [line.split()[:2] for line in listed] == [["li.si", "duty"], ["wallpc", "wall"]]
    assert "李四" in listed[0] and "[kiosk token]" in listed[1]
    ended = user_cli("signout", "li.si")
    assert ended.returncode == 0 and "sessions of li.si have ended" in ended.stdout


@pytest.mark.parametrize("args, password, message", [
    (("add", "Li Si", "--role", "duty", "--password-stdin"), "correct horse battery", "error: user name 'Li Si'"),
    (("add", "lisi", "--role", "duty", "--password-stdin"), "short", "error: a password has 10–256 characters"),
    (("passwd", "nobody", "--password-stdin"), "correct horse battery", "error: no user 'nobody'"),
    (("token", "nobody"), "", "error: no user 'nobody'"),
    (("signout", "nobody"), "", "error: no user 'nobody'"),
])
def test_bad_input_gets_one_line_and_exit_code_2(user_cli, args, password, message):
    result = user_cli(*args, password=password)
    assert result.returncode == 2 and result.stderr.strip().startswith(message), result.stderr
    assert "Traceback" not in result.stderr
    assert user_cli("list").stdout == ""  # nothing written


def test_an_unknown_role_is_refused_by_the_command_line(user_cli):
    result = user_cli("add", "lisi", "--role", "root", "--password-stdin", password="correct horse battery")
    assert result.returncode == 2 and "invalid choice: 'root'" in result.stderr
