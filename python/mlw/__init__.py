"""Experiment tracking for scripts run by ML Workbench.

    import mlw

    mlw.log_params({"lr": 0.01, "epochs": 10})
    for epoch in range(10):
        ...
        mlw.log_metric("loss", loss, step=epoch)
        mlw.log_metric("accuracy", acc, step=epoch, goal="max")
    mlw.set_tag("model", "resnet18")
    mlw.log_artifact("model.pt")   # copied into outputs/artifacts/ and kept with the run

Inside a run ML Workbench sets MLW_TRACKING_DIR, and events go to events.jsonl there, one JSON object per line,
written at least once a second, at exit and on SIGTERM (a canceled run keeps what it logged). Outside ML Workbench
every call still checks its arguments (so a mistake shows up locally, not in the first real run) and then does
nothing. Standard library only, so it works in any image with Python 3.8 or newer.

Logging is cheap (100,000 metrics cost about 0.1 s of CPU in all, JSON writing included) and thread-safe. A worker
process forked by multiprocessing writes its own events, but ends with os._exit, which skips the final write:
call mlw.flush() at the end of a worker that logs.
"""

import atexit
import os
import signal
import sys
import threading
import time

# json (which brings re), shutil and numbers are imported where needed: importing mlw stays cheap, and most
# scripts never take the paths that use them.

__all__ = [
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "set_tag",
    "log_artifact",
    "flush",
    "enabled",
]

_TRACKING_DIR = os.environ.get("MLW_TRACKING_DIR") or None
_OUTPUTS = os.environ.get("MLW_OUTPUTS") or None
_FILE_NAME = "events.jsonl"
_FLUSH_INTERVAL = 0.5  # seconds: comfortably inside the "visible within a second" the host relies on

# Pending events. A metric is 5 consecutive items of _metrics (name, value, step, time_ns, goal suffix), added
# with one list.extend; other kinds are whole JSON lines in _lines. The hot path does that extend and nothing
# more: extending by a tuple is atomic (under the GIL, and per list in free-threaded builds) and flush() only
# ever removes the prefix it has read, so it needs no lock; measured, a lock around it cost as much as the rest
# of log_metric. JSON and I/O happen in flush(), serialised by _write_lock, which is re-entrant because the
# SIGTERM handler runs on the main thread, possibly inside flush(). Order is kept within each of the two lists.
_metrics = []
_extend = _metrics.extend
_lines = []
_write_lock = threading.RLock()
_time_ns = time.time_ns
_fd = None
_write_failed = False
# Ident of the thread inside flush() while it holds a batch it has not written yet; see _on_sigterm.
_flushing_ident = None
_term_pending = False


def enabled():
    """True inside an ML Workbench run (events are recorded); False when every call is a no-op."""
    return _TRACKING_DIR is not None


# ---- validation (the same in both modes) -------------------------------------------------------------------


def _check_name(name, what="name"):
    if isinstance(name, str) and name:
        return str.__str__(name)  # a plain str, even for str subclasses such as StrEnum members
    raise TypeError("mlw: %s must be a non-empty str, got %r" % (what, name))


def _real(name, value):
    # Exact int and float never get here (the callers check inline); this takes numpy scalars and other
    # numbers.Real, and refuses bool, strings, tensors and the like with a message saying what to pass instead.
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            "mlw: metric %r must be a real number (int or float), got %s %r; convert it first, e.g. float(x) or x.item()"
            % (name, type(value).__name__, value)
        )
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _step(step):
    import numbers

    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise TypeError("mlw: step must be an int or None, got %s %r" % (type(step).__name__, step))
    return int(step)


# What the line ends with, per goal; stored in the event so that encoding needs no per-event branch.
_GOAL_SUFFIX = {"max": ',"goal":"max"', "min": ',"goal":"min"'}


def _goal_suffix(goal):
    suffix = _GOAL_SUFFIX.get(goal) if isinstance(goal, str) else None
    if suffix is None:
        raise ValueError("mlw: goal must be None, 'max' or 'min', got %r" % (goal,))
    return suffix


def _param_value(value):
    if value is None or type(value) in (str, bool, int, float):
        return value
    import numbers

    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    return str(value)


# ---- public API --------------------------------------------------------------------------------------------


def log_metric(name, value, step=None, goal=None):
    """Records one value of a metric. step: an int (epoch, batch) or None; goal: "max", "min" or None, saying
    which direction is better (used to pick the best run)."""
    # Hot path: checks of exact types inline, anything unusual to a helper; the event keeps the step and goal
    # already in the form the line needs.
    if type(value) is not float and type(value) is not int:
        value = _real(name, value)
    if type(name) is not str or not name:
        name = _check_name(name)
    if step is None:
        step = "null"
    elif type(step) is not int:
        step = _step(step)
    goal = "" if goal is None else _goal_suffix(goal)
    if _TRACKING_DIR is not None:
        _extend((name, value, step, _time_ns(), goal))


def log_metrics(metrics, step=None):
    """Records several metrics at once (same step and time), e.g. log_metrics({"loss": l, "acc": a}, step=3)."""
    step = "null" if step is None else _step(step)
    t = _time_ns()
    events = []
    for name, value in dict(metrics).items():
        if type(value) is not float and type(value) is not int:
            value = _real(name, value)
        events += (_check_name(name), value, step, t, "")
    if _TRACKING_DIR is not None:
        _extend(events)


def _dumps(obj):
    import json

    # ASCII-only output: lone surrogates and control characters in names cannot produce invalid UTF-8.
    return json.dumps(obj, allow_nan=False, separators=(",", ":")) + "\n"


def _json_scalar(value):
    # Strict JSON has no NaN or Infinity: written as strings, as metric values are.
    if type(value) is float and value - value != 0:
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return value


def log_param(name, value):
    """Records a hyperparameter or other input. str, int, float, bool and None are kept as they are; any other
    value is stored as str(value)."""
    name = _check_name(name)
    value = _param_value(value)
    if _TRACKING_DIR is not None:
        _lines.append(_dumps({"kind": "param", "name": name, "value": _json_scalar(value), "t": time.time()}))


def log_params(params):
    """Records several parameters, e.g. log_params(vars(args)) or log_params({"lr": 0.01})."""
    for name, value in dict(params).items():
        log_param(name, value)


def set_tag(key, value):
    """Labels the run, e.g. set_tag("dataset", "v2"). The value is stored as str(value)."""
    key = _check_name(key, "tag key")
    value = str.__str__(value) if isinstance(value, str) else str(value)
    if _TRACKING_DIR is not None:
        _lines.append(_dumps({"kind": "tag", "name": key, "value": value, "t": time.time()}))


def log_artifact(path, name=None):
    """Keeps a file or folder with the run: copies it to $MLW_OUTPUTS/artifacts/<name or its base name> (a path
    already inside the outputs folder is recorded where it is). name may contain "/" for subfolders. Returns the
    path the artifact is kept at, or None outside ML Workbench."""
    path = os.fspath(path)
    if name is not None:
        name = _check_name(name, "artifact name")
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or not all(p and p not in (".", "..") for p in parts):
            raise ValueError("mlw: artifact name must be a relative path without '.', '..' or empty parts, got %r" % (name,))
    if _TRACKING_DIR is None:
        return None
    if _OUTPUTS is None:
        raise RuntimeError("mlw: MLW_OUTPUTS is not set, so there is no outputs folder to keep artifacts in")
    if not os.path.exists(path):
        raise FileNotFoundError("mlw: artifact %r does not exist" % (path,))
    rel = _inside_outputs(path)
    if rel is None:
        base = os.path.basename(os.path.normpath(os.path.abspath(path)))
        rel = "artifacts/" + ("/".join(parts) if name is not None else base)
        dest = os.path.join(_OUTPUTS, *rel.split("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        import shutil

        if os.path.isdir(path):
            # Links are followed: the outputs get the content, never a link pointing out of them.
            shutil.copytree(path, dest, dirs_exist_ok=True)
        else:
            shutil.copyfile(path, dest)
    elif not rel:
        return _OUTPUTS  # the outputs folder itself: all of it is kept anyway
    else:
        dest = os.path.join(_OUTPUTS, *rel.split("/"))
    _lines.append(_dumps({"kind": "artifact", "path": rel, "t": time.time()}))
    return dest


def _inside_outputs(path):
    """The outputs-relative path of `path` when it lies in the outputs folder, else None. Compares inodes, not
    strings: the runner mounts the same folder at /workspace/outputs and at <script folder>/outputs."""
    try:
        target = os.stat(_OUTPUTS)
    except OSError:
        return None
    current = os.path.realpath(path)
    parts = []
    while True:
        try:
            st = os.stat(current)
            if st.st_dev == target.st_dev and st.st_ino == target.st_ino:
                return "/".join(reversed(parts))
        except OSError:
            pass
        parent = os.path.dirname(current)
        if parent == current:
            return None
        parts.append(os.path.basename(current))
        current = parent


# ---- writing -----------------------------------------------------------------------------------------------

# One metric line. Formatting all pending metrics with one `%` (the template repeated, the flat list as its
# arguments) keeps the per-event work in C: a Python loop building each line cost about twice as much. t is
# time.time_ns() written with an exponent ("t":1718000000123456789e-9): a JSON number equal to time.time(),
# without the cost of formatting a float.
_METRIC_LINE = '{"kind":"metric","name":"%s","value":%s,"step":%s,"t":%de-9%s}\n'
_NON_FINITE = (
    (',"value":nan,', ',"value":"NaN",'),
    (',"value":inf,', ',"value":"Infinity",'),
    (',"value":-inf,', ',"value":"-Infinity",'),
)
_plain_names = set()  # names that need no JSON escaping; anything else goes through json.dumps
_escaped_names = {}


def _is_plain(name):
    return '"' not in name and "\\" not in name and name.isprintable()


def _encode_metrics(flat):
    names = set(flat[0::5])
    if not names <= _plain_names:
        for name in names - _plain_names:
            if _is_plain(name):
                _plain_names.add(name)
            elif name not in _escaped_names:
                _escaped_names[name] = _dumps(name)[1:-2]
        if not names.isdisjoint(_escaped_names):
            flat = flat[:]  # rare: a name with quotes, backslashes or control characters
            flat[0::5] = [_escaped_names.get(name, name) for name in flat[0::5]]
    text = (_METRIC_LINE * (len(flat) // 5)) % tuple(flat)
    try:
        total = sum(flat[1::5])
        finite = total - total == 0
    except OverflowError:
        finite = False
    if not finite:
        # A NaN or infinity anywhere makes the sum one (an overflowing sum only costs these replaces). The
        # patterns cannot occur inside a name: every quote there is escaped.
        for raw, strict in _NON_FINITE:
            text = text.replace(raw, strict)
    return text


def _write(data):
    global _fd, _write_failed
    if _write_failed:
        return
    try:
        if _fd is None:
            os.makedirs(_TRACKING_DIR, exist_ok=True)
            _fd = os.open(os.path.join(_TRACKING_DIR, _FILE_NAME), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        # One write of whole lines on an O_APPEND fd: a reader, or a kill -9, sees at most one torn last line.
        # The loop only continues after a short write (disk full and the like).
        view = memoryview(data)
        while view:
            view = view[os.write(_fd, view):]
    except OSError as err:
        # Tracking must never take the user's training down with it: warn once, then drop events.
        _write_failed = True
        sys.stderr.write("mlw: could not write tracking events to %s: %s; further events are dropped\n" % (_TRACKING_DIR, err))


def flush():
    """Writes buffered events now. Done every half second, at exit and on SIGTERM; scripts rarely need it."""
    global _flushing_ident, _term_pending
    if _TRACKING_DIR is None:  # outside ML Workbench
        return
    # The emptiness check is made holding the lock: when the background flusher has just taken the last batch and
    # is still writing it, the exit flush must wait for that write, or the interpreter ends the flusher mid-write.
    with _write_lock:
        if not _metrics and not _lines:
            return
        _flushing_ident = threading.get_ident()
        try:
            # Only the prefixes read are removed: what other threads add meanwhile stays for the next flush.
            n = len(_lines)
            lines = _lines[:n]
            del _lines[:n]
            n = len(_metrics)
            metrics = _metrics[:n]
            del _metrics[:n]
            text = "".join(lines) + _encode_metrics(metrics) if metrics else "".join(lines)
            if text:
                _write(text.encode("utf-8"))
        finally:
            _flushing_ident = None
    if _term_pending and threading.current_thread() is threading.main_thread():
        # SIGTERM arrived while this flush held a batch (see _on_sigterm): write what came since, then die.
        _term_pending = False
        flush()
        _terminate()


def _flush_loop():
    while True:
        time.sleep(_FLUSH_INTERVAL)
        try:
            flush()
        except Exception as err:  # keep the thread alive: later events must still be written
            sys.stderr.write("mlw: writing tracking events failed: %r\n" % (err,))


def _on_sigterm(signum, frame):
    global _term_pending
    if _flushing_ident == threading.get_ident():
        # The main thread was interrupted inside flush(), holding a batch it has not written: flushing again here
        # would lose or repeat it. Let that flush finish; it terminates right after.
        _term_pending = True
        return
    try:
        flush()
    finally:
        _terminate()


def _terminate():
    # Die as the default SIGTERM action would (exit status 128+15), now that the events are on disk.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
    # Still here: we are PID 1 of the container (no init), where the kernel ignores default-action signals.
    os._exit(128 + signal.SIGTERM)


def _after_fork_in_child():
    # A forked worker must not write its parent's pending events again, must not inherit a lock held by the
    # parent's flusher, and needs a flusher thread of its own.
    global _write_lock, _flushing_ident, _term_pending
    del _metrics[:]
    del _lines[:]
    _write_lock = threading.RLock()
    _flushing_ident = None
    _term_pending = False
    _start_flusher()


def _start_flusher():
    threading.Thread(target=_flush_loop, name="mlw-flush", daemon=True).start()


if _TRACKING_DIR is not None:
    _start_flusher()
    atexit.register(flush)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    try:
        # Only when the script has no SIGTERM handler of its own (one it installs later simply replaces this).
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:
        pass  # imported outside the main thread, where handlers cannot be installed
