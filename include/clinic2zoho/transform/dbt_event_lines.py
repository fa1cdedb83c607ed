"""dbt formats an event's log line only when one of its loggers writes it.

dbt (dbt_common.events.logger._Logger.write_line) formats every event it fires into a line, then
hands the line to Python's logging, which drops it when the event is below the logger's level.
The demo's `dbt build` fires 8,228 debug events (each statement's SQL, connections, timings) and
prints 719 lines at info: most lines it formats are dropped. In JSON, the format Cosmos reads the
dbt group's build from, each of them is protobuf's MessageToDict and a json.dumps. Measured on
2026-12-07 (the demo's `dbt build` from a saved parse, forked warm, no log file, three rounds
taking turns): JSON 7.41 to 7.51 s as dbt does it, 6.61 to 6.66 s with the level checked first;
text 6.77 to 6.80 s, then 6.50 to 6.59 s.

`format_only_logged_events` checks the level first, as Python's logging does before it formats a
record: what each logger writes, and every callback, are as before. The fork server
(dbt_fork_server) applies it once; every command forked from it runs with it.

Before any logger sees it, dbt's event manager (EventManager.fire_event) builds each event's
message (msg_from_base_event: a protobuf ParseDict, a time stamp); for the debug events no logger
writes, that was 8% of the samples of a profiled `dbt build` (the demo's warehouse, 100 patients,
2026-12-08). Below warn level (no warn-as-error handling, no behaviour-change tracking) an event
that no logger's level lets through and no callback reads is not built at all."""

from __future__ import annotations

import os
from typing import Any

_MARK = "_clinic2zoho_level_first"  # set on the replacement, so that applying it twice changes nothing


def format_only_logged_events() -> bool:
    """Have dbt's loggers skip, before formatting it, an event their level drops, and dbt's event
    manager skip building an event nobody takes. False, and nothing changed, when this dbt writes
    its lines another way."""
    try:
        from dbt_common.events import logger as dbt_logger

        logger_class = dbt_logger._Logger
        level_numbers = dbt_logger._log_level_map
        is_print_event = dbt_logger._is_print_event
        event_level = dbt_logger.EventLevel
    except (ImportError, AttributeError):
        return False
    _build_only_taken_events(level_numbers, event_level)  # each of the two applied once, on its own
    write_line = logger_class.write_line
    if getattr(write_line, _MARK, False):
        return True

    def write_line_if_logged(self: Any, msg: Any) -> None:
        # a logger dbt was given (LoggerConfig.logger) may be any object with .debug, .info, ...
        enabled_for = getattr(getattr(self, "_python_logger", None), "isEnabledFor", None)
        # a print event goes out at error level whatever its own (dbt's write_line)
        if callable(enabled_for) and not is_print_event(msg):
            try:
                number = level_numbers[event_level(msg.info.level)]
            except (KeyError, ValueError):  # a level dbt's write_line itself refuses
                number = None
            if number is not None and not enabled_for(number):
                return
        write_line(self, msg)

    setattr(write_line_if_logged, _MARK, True)
    write_line_if_logged.__wrapped__ = write_line  # type: ignore[attr-defined]
    logger_class.write_line = write_line_if_logged
    return True


def _build_only_taken_events(level_numbers: dict, event_level: Any) -> None:
    """EventManager.fire_event returns before building an event's message when nobody takes it."""
    try:
        from dbt_common.events.event_manager import EventManager
        from dbt_common.events.logger import PRINT_EVENT_NAMES
    except ImportError:
        return
    try:
        from dbt.tracking import track_behavior_change_warn  # reads BehaviorChangeEvent (warn) only
    except ImportError:
        track_behavior_change_warn = None
    fire_event = EventManager.fire_event
    if getattr(fire_event, _MARK, False):
        return
    warn = level_numbers[event_level.WARN]
    always_built = (*PRINT_EVENT_NAMES, "BehaviorChangeEvent")

    def taken(manager: Any, event: Any, level: Any) -> bool:
        if type(event).__name__ in always_built:
            return True
        try:
            number = level_numbers[event_level(level or event.level_tag())]
        except (KeyError, ValueError):
            return True
        if number >= warn or any(callback is not track_behavior_change_warn for callback in manager.callbacks):
            return True
        for logger in manager.loggers:
            enabled_for = getattr(getattr(logger, "_python_logger", None), "isEnabledFor", None)
            if not callable(enabled_for) or enabled_for(number):
                return True
        return False

    def fire_event_if_taken(self: Any, e: Any, level: Any = None, node: Any = None,
                            force_warn_or_error_handling: bool = False) -> None:
        if (force_warn_or_error_handling or os.environ.get("DBT_TEST_BINARY_SERIALIZATION")
                or taken(self, e, level)):
            fire_event(self, e, level, node, force_warn_or_error_handling)

    setattr(fire_event_if_taken, _MARK, True)
    fire_event_if_taken.__wrapped__ = fire_event  # type: ignore[attr-defined]
    EventManager.fire_event = fire_event_if_taken
