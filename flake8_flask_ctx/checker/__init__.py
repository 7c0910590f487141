"""The checker: source text in, findings out.

The layer between the front ends and the rules: it runs the cheap gates of ``index/``,
parses what passes, asks the engine for the module's dispatch sites and reach, and runs
every rule over those facts.  It sits above ``rules/`` (which read the engine's facts) and
``engine/`` (which never imports the rules), so data flows one way.
"""
