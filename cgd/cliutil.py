"""Small helpers shared by the command-line interfaces."""

import argparse
import sys

from cgd.errors import CGDError


def number(text: str, what: str, kind=float):
    """Parse a number given on the command line; kind=int demands a whole number."""
    try:
        v = float(text)
    except ValueError:
        raise CGDError(f"{what} must be a number, got {text!r}") from None
    if kind is int:
        if v != v or v in (float("inf"), float("-inf")) or v != int(v):
            raise CGDError(f"{what} must be a whole number, got {text!r}")
        try:
            return int(text)
        except ValueError:
            return int(v)
    return v


def run(fn, *args) -> int:
    """Call a CLI body; a CGDError, ValueError or OSError becomes one line on stderr and exit 2."""
    try:
        return fn(*args)
    except (CGDError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


class Parser(argparse.ArgumentParser):
    """argparse with the one-line error contract: a bad choice or a missing argument prints
    ``error: ...`` (one line, naming the program) and exits 2 — no usage dump."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message}\n")


def add_method_options(p) -> None:
    """The options every sampling CLI shares for the method's own knobs (:mod:`cgd.methods`)."""
    from cgd.guidance import GUIDANCE_SCHEDULES
    from cgd.methods import REGISTRY

    own = "; ".join(f"{m.name}: " + ", ".join(f"{q.name} ({q.doc}, default {q.default:g})" for q in m.params)
                    for m in REGISTRY if m.params)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help=f"a method's own option, repeatable ({own})")
    p.add_argument("--guidance-schedule", default="constant", choices=GUIDANCE_SCHEDULES,
                   help="w(t) for the CFG-type methods: constant, or rising as the noise falls "
                        "(linear: 2w(1 - t/T), cosine: w(1 + cos(pi t/T)); both average w)")


def method_fields(args) -> dict:
    """SampleRequest fields of :func:`add_method_options`."""
    from cgd.methods import parse_options

    return dict(options=parse_options(args.param), guidance_schedule=args.guidance_schedule)
