"""dbt's loggers, with the level checked before an event is formatted, write exactly the lines
they wrote before, and format only those; dbt's event manager builds only the events a logger or
a callback takes (transform/dbt_event_lines.py). Real dbt_common loggers
and events; the forked commands' output against the `dbt` executable's is in test_dbt_process.py."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest
from dbt_common.events import event_manager as dbt_event_manager
from dbt_common.events import logger as dbt_logger
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.logger import LineFormat, LoggerConfig
from dbt_common.events.types import Note, PrintEvent

from clinic2zoho.transform.dbt_event_lines import format_only_logged_events

# (event, the level it is fired at): what a build fires, print events included
EVENTS = [
    (Note(msg="statement one"), EventLevel.DEBUG),
    (Note(msg="a model started"), EventLevel.INFO),
    (Note(msg="connection closed"), EventLevel.DEBUG),
    (Note(msg="a test failed"), EventLevel.WARN),
    (PrintEvent(msg="printed by a macro"), None),
    (Note(msg="a test result"), EventLevel.TEST),
    (Note(msg="the build failed"), EventLevel.ERROR),
]


def dbts_own(function):
    return getattr(function, "__wrapped__", function)


@pytest.fixture()
def restore_write_line(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """dbt's own write_line and fire_event during the test and after it. Returns the names of the
    events whose message dbt's event manager built."""
    monkeypatch.setattr(dbt_logger._Logger, "write_line", dbts_own(dbt_logger._Logger.write_line))
    monkeypatch.setattr(EventManager, "fire_event", dbts_own(EventManager.fire_event))
    built: list[str] = []
    build = dbt_event_manager.msg_from_base_event

    def counted(event, level=None):
        built.append(type(event).__name__)
        return build(event, level=level)

    monkeypatch.setattr(dbt_event_manager, "msg_from_base_event", counted)
    return built


def fire(line_format: LineFormat, level: EventLevel, manager: EventManager | None = None) -> tuple[list[str], int]:
    """The lines one logger of `level` writes for EVENTS, without their time stamps, and how many
    lines it formatted."""
    stream = io.StringIO()
    manager = manager or EventManager()
    manager.add_logger(LoggerConfig(name=f"probe_{line_format.name}_{level.value}", level=level,
                                    line_format=line_format, output_stream=stream))
    logger = manager.loggers[0]
    formatted = []
    create_line = logger.create_line

    def counted(msg):
        formatted.append(msg.info.name)
        return create_line(msg)

    logger.create_line = counted
    for event, fired_at in EVENTS:
        manager.fire_event(event, level=fired_at)
    return [without_time(line) for line in stream.getvalue().splitlines()], len(formatted)


def without_time(line: str) -> str:
    if line.startswith("{"):
        event = json.loads(line)
        return json.dumps({"level": event["info"]["level"], "msg": event["info"]["msg"], "data": event["data"]})
    return re.sub(r"^\d{2}:\d{2}:\d{2}(\.\d+)?\s+", "", line)


@pytest.mark.parametrize("line_format", [LineFormat.Json, LineFormat.PlainText, LineFormat.DebugText],
                         ids=["json", "text", "debug-text"])
@pytest.mark.parametrize("level", [EventLevel.DEBUG, EventLevel.INFO, EventLevel.ERROR], ids=["debug", "info", "quiet"])
def test_each_logger_writes_the_same_lines_and_formats_only_those(restore_write_line, line_format, level):
    before, formatted_before = fire(line_format, level)
    built_before = len(restore_write_line)
    assert format_only_logged_events()
    after, formatted_after = fire(line_format, level)
    assert after == before
    assert formatted_before == built_before == len(EVENTS)  # dbt builds and formats every event
    assert formatted_after == len(after)  # now only what the logger writes
    # and builds only what the logger writes, and the warning and the error always (dbt's
    # warn-as-error handling reads them): a quiet logger writes the print event and the error
    built = restore_write_line[built_before:]
    assert len(built) == {EventLevel.DEBUG: 7, EventLevel.INFO: 4, EventLevel.ERROR: 3}[level]
    expected = {EventLevel.DEBUG: 7, EventLevel.INFO: 4, EventLevel.ERROR: 2}[level]  # a print event always goes out
    assert len(after) == expected
    assert any("printed by a macro" in line for line in after)


def test_a_logger_given_without_a_level_check_gets_every_line_as_before(restore_write_line):
    """dbt takes any object with .debug/.info/... as a logger (LoggerConfig.logger)."""
    class Collecting:
        def __init__(self):
            self.lines = []

        def debug(self, line):
            self.lines.append(("debug", line))

        def info(self, line):
            self.lines.append(("info", line))

        def warning(self, line):
            self.lines.append(("warning", line))

        def error(self, line):
            self.lines.append(("error", line))

    format_only_logged_events()
    given = Collecting()
    manager = EventManager()
    manager.add_logger(LoggerConfig(name="probe_given", logger=given, level=EventLevel.INFO))
    for event, fired_at in EVENTS:
        manager.fire_event(event, level=fired_at)
    assert [level for level, _ in given.lines] == ["debug", "info", "debug", "warning", "error", "debug", "error"]


def test_a_callback_other_than_dbts_tracking_gets_every_event_as_before(restore_write_line):
    """dbt's programmatic runner (dbtRunner(callbacks=...)) hands every event to its callbacks,
    whatever the loggers' levels: Cosmos's in-process runner reads them so."""
    format_only_logged_events()
    seen: list[tuple[str, str]] = []
    manager = EventManager()
    manager.add_callback(lambda msg: seen.append((msg.info.level, msg.info.msg)))
    lines, _ = fire(LineFormat.Json, EventLevel.ERROR, manager)
    assert len(lines) == 2
    assert seen == [((fired_at or event.level_tag()).value, event.message()) for event, fired_at in EVENTS]


def test_applying_it_again_changes_nothing(restore_write_line):
    original = dbt_logger._Logger.write_line, EventManager.fire_event
    assert format_only_logged_events()
    once = dbt_logger._Logger.write_line, EventManager.fire_event
    assert format_only_logged_events()
    assert (dbt_logger._Logger.write_line, EventManager.fire_event) == once
    assert (once[0].__wrapped__, once[1].__wrapped__) == original
    EventManager.fire_event = original[1]  # one of the two undone (the fixture restores it after)
    assert format_only_logged_events()
    assert EventManager.fire_event.__wrapped__ is original[1] and dbt_logger._Logger.write_line is once[0]


def test_the_fork_server_applies_it_for_every_command_it_forks():
    """Applied in the server, before any fork (dbt_fork_server.serve): a server whose stdin is
    already closed serves no command and shows what its children would start from."""
    probe = ("import io, sys; import clinic2zoho.transform.dbt_fork_server as server; sys.stdin = io.StringIO(); "
             "server.serve(); from dbt_common.events import logger; "
             "from dbt_common.events.event_manager import EventManager; "
             "print(all(getattr(f, '__wrapped__', None) is not None for f in "
             "(logger._Logger.write_line, EventManager.fire_event)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
