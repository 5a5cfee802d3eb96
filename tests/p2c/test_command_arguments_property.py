"""No argument of any command ends in a traceback (docs/decisions.md#bounded-and-total-doors): every management command
of the project, run with generated arguments (text with lone surrogates, as bytes that are not UTF-8 reach Python, NUL,
huge and negative numbers, empty strings, names that do not exist), either runs or refuses with a clear error, exit 0, 1
or 2.

Each command runs in this process as ``manage.py`` runs it from the command line (``call_command``: its parser, its
argument types, its handle), with a standard output that refuses what UTF-8 cannot encode, as a terminal's does,
and in a transaction rolled back after each run, so nothing a run writes leaks into the next. A CommandError is the
one-line refusal manage.py prints (exit 1, or 2 for usage); any other exception is the traceback the issue saw.

Few examples per command by default (CI); ``P2C_COMMAND_EXAMPLES=200`` for a longer search.
"""

import io
import os
from contextlib import ExitStack

import pytest
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.db import connections, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from p2c.management import arguments

EXAMPLES = int(os.environ.get("P2C_COMMAND_EXAMPLES", "10"))
PROJECT_APPS = ("crm", "erp", "integration", "p2c")
# Django's own options of every command: --traceback asks for a traceback, the others are not the command's.
BASE_OPTIONS = {"-h", "--help", "--version", "-v", "--verbosity", "--settings", "--pythonpath", "--traceback",
                "--no-color", "--force-color", "--skip-checks"}
COMMANDS = sorted(name for name, app in get_commands().items() if app in PROJECT_APPS)


def _actions(name):
    parser = load_command_class(get_commands()[name], name).create_parser("manage.py", name)
    return [a for a in parser._actions if not set(a.option_strings) & BASE_OPTIONS and a.dest != "help"]


# Values no command should take as they are, or should refuse in one line: never a count or an id a test database
# holds a lot of (a valid --scale would seed millions of rows).
huge_or_negative = st.one_of(st.integers(max_value=-1), st.integers(min_value=10**11)).map(str)
odd_text = st.text(st.characters(categories=["Cs", "Cc", "Lu", "Ll", "Nd", "Zs", "So"]), max_size=12)
surrogate_escaped = st.binary(min_size=1, max_size=8).map(lambda b: os.fsdecode(b + b"\xff"))
hostile = st.one_of(
    st.sampled_from(["", " ", "\x00", "net\ud800x", "\udcff\udcfe", "no-such-thing", "erp.NoSuchModel",
                     "nosuchapp.Model", "-1", "99999999999999", "9" * 400, "1e309", "NaN", "x=y", "=erp", "--"]),
    huge_or_negative, odd_text, surrogate_escaped,
)


@st.composite
def command_lines(draw, name):
    """Arguments for command ``name``: one to three of its options or positionals, each with a hostile value (a flag
    without one), and always at least one hostile value (a command without arguments gets an extra one)."""
    actions = _actions(name)
    takes_values = [a for a in actions if a.nargs != 0]
    argv = []
    chosen = draw(st.lists(st.sampled_from(actions), min_size=1, max_size=3)) if actions else []
    if not any(a.nargs != 0 for a in chosen):
        chosen.append(draw(st.sampled_from(takes_values)) if takes_values else None)
    for action in chosen:
        if action is None:  # no argument takes a value: a stray one
            argv.append(draw(hostile))
            continue
        values = [] if action.nargs == 0 else [draw(hostile) for _ in range(action.nargs if isinstance(action.nargs,
                                                                                                      int) else 1)]
        argv += ([draw(st.sampled_from(action.option_strings))] if action.option_strings else []) + values
    return argv


def _strict_stream():
    """A text stream that refuses what UTF-8 cannot encode, as a command's standard output does."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)


def _run(name, argv, tmp_path):
    """The exit status manage.py would give, or the exception it would print as a traceback (raised)."""
    stdout = _strict_stream()
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(transaction.atomic(using=alias))
        try:
            call_command(name, *argv, stdout=stdout, stderr=stderr)
            status = 0
        except CommandError as exc:
            stderr.write(f"CommandError: {exc}\n")  # what manage.py prints: it must be printable
            status = exc.returncode
        except SystemExit as exc:
            status = exc.code or 0
        finally:
            for alias in connections:
                transaction.set_rollback(True, using=alias)
    return status


# Django's own commands that the project extends keep Django's arguments and behaviour: a developer's tool run from
# the repository by `make messages` (outside it, Django's makemessages itself ends in an IndexError on sys.argv).
DJANGOS_ARGUMENTS = {"makemessages"}
ADMINISTRATORS_COMMANDS = [name for name in COMMANDS if name not in DJANGOS_ARGUMENTS]


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("name", ADMINISTRATORS_COMMANDS)
def test_no_argument_ends_in_a_traceback(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a valid -o FILE writes there

    @hypothesis_settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
    @given(argv=command_lines(name))
    def run(argv):
        assert _run(name, argv, tmp_path) in (0, 1, 2), argv

    run()


def test_the_commands_are_all_found():
    assert {"sync", "integration_import", "seed_demo", "ensure_superuser", "create_contacts"} <= set(COMMANDS)


SHARED_TYPES = {arguments.text, arguments.path, arguments.record_id}
# A type of its own where the value has a shape of its own (FIELD=SIDE), built on the shared text type.
OWN_TYPES = {"integration.management.commands.conflicts_resolve.field_choice"}


@pytest.mark.parametrize("name", ADMINISTRATORS_COMMANDS)
def test_every_argument_that_takes_text_or_a_number_has_a_shared_type(name):
    """Every argument taking a value is checked by one of the shared types of p2c.management.arguments (text,
    path, record_id, int_between) or is a choice: none is read raw, as the ``type=int`` that overflowed was."""
    for action in _actions(name):
        if action.nargs == 0 or action.choices:
            continue
        kind = action.type
        shared = kind in SHARED_TYPES or getattr(kind, "__qualname__", "").startswith("int_between.")
        own = f"{getattr(kind, '__module__', '')}.{getattr(kind, '__qualname__', '')}" in OWN_TYPES
        assert shared or own, f"{name} {action.option_strings or action.dest}: type {kind!r}"
