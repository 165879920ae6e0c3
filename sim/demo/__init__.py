"""`aiops demo`: the real bot, on embedded stores, against a simulated world.

`world` builds it (people, settings, the running app), `script` plays the incident and narrates.
Registered as the `aiops.commands` entry point `demo` of the `aiops-sim` distribution, so the
production image (which installs only `aiops`) has no demo and says so.
"""

from sim.demo.script import run_demo
from sim.demo.world import ANSWER_MARK, INCIDENTS, PEOPLE, DemoApp, audit_ref, running_demo, visible

__all__ = [
    "ANSWER_MARK", "INCIDENTS", "PEOPLE", "DemoApp", "audit_ref", "run_demo", "running_demo", "visible",
]
