"""Bad command arguments are usage errors naming the argument, refused before anything changes
(docs/decisions.md#bounded-and-total-doors)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from crm.models import Account

BASE_DIR = Path(__file__).resolve().parent.parent.parent

BAD_ARGUMENTS = [
    (["seed_demo", "--scale", "-5"], "argument --scale: -5 is out of range: give a number from 1 to 10,000,000"),
    (["seed_demo", "--scale", "0"], "argument --scale: 0 is out of range"),
    (["seed_demo", "--scale", "ten"], "argument --scale: 'ten' is not a whole number"),
    (["seed_demo", "--seed", "x"], "argument --seed: 'x' is not a whole number"),
    (["p2c_cleanup_runs", "--days", "-1"], "argument --days: -1 is out of range: give a number from 0 to 36,500"),
    (["p2c_cleanup_runs", "--days", "99999999999"], "argument --days: 99999999999 is out of range"),
    (["p2c_upgrade", "--batch-size", "0"], "argument --batch-size: 0 is out of range: give a number from 1 to 100,000"),
    (["ensure_superuser", "--username", ""], "--username '': This field cannot be blank."),
    (["ensure_superuser", "--username", "a b"], "--username 'a b': Enter a valid username."),
    (["ensure_superuser", "--email", "not-an-address"], "--email 'not-an-address': Enter a valid email address."),
]


@pytest.mark.django_db
@pytest.mark.parametrize("args, message", BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_are_refused_before_anything_changes(args, message):
    with pytest.raises(CommandError) as refused:
        call_command(*args)
    assert message in str(refused.value)
    assert not Account.objects.exists() and not get_user_model().objects.exists()


def test_on_the_command_line_a_bad_argument_is_a_usage_error_not_a_traceback(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'args.sqlite3'}", "P2C_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "manage.py", "seed_demo", "--scale", "-5"], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "seed_demo: error: argument --scale: -5 is out of range" in result.stderr


@pytest.mark.parametrize("argv, says", [
    ([b"sync", b"\xff\xfe"], "argument MAPPING: '\\xff\\xfe' is not valid text"),
    ([b"integration_export", b"--mapping", b"a\xffb"], "argument --mapping: 'a\\xffb' is not valid text"),
    ([b"conflicts_resolve", b"--mapping", b"\xff", b"--take", b"erp"], "argument --mapping: '\\xff' is not valid"),
    ([b"sync_health", b"--max-lag", b"99999999999999"], "argument --max-lag: 99999999999999 is out of range"),
    ([b"sync_log_cleanup", b"--older-than", b"99999999999", b"--dry-run"],
     "argument --older-than: 99999999999 is out of range"),
], ids=["sync", "integration_export", "conflicts_resolve", "sync_health", "sync_log_cleanup"])
def test_bytes_that_are_not_utf8_and_numbers_past_c_limits_are_one_line_not_a_traceback(tmp_path, argv, says):
    """What once ended in UnicodeEncodeError or OverflowError: argv as the shell passes it, bytes and all."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'args.sqlite3'}", "P2C_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable.encode(), b"manage.py", *argv], cwd=BASE_DIR, env=env,
                            capture_output=True, timeout=120)
    stderr = result.stderr.decode("utf-8", "backslashreplace")
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert says in stderr
