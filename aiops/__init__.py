"""The composition root: the `aiops` command, settings → clients → runtime, HTTP assembly.

The only package allowed to import everything (handlers, app, tools, kernel); nothing imports it
except tests, benchmarks and the demo.
"""
