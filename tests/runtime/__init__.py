"""Runtime ground truth for the fixtures: run each one under real Flask and watch it fail.

The static test (``tests/test_fixtures.py``) proves the plugin says what the markers say;
this package proves the markers say what Flask does.  It is split by process:

* ``kinds``   -- the vocabulary shared by both sides: what an observed failure *is*
  (``request``, ``app``, ``closed-file``...) and which marker codes predict which kinds.
* ``probes``  -- instrumentation installed inside the fixture's own subprocess before the
  fixture is imported (threads, pools, ``_thread``, processes, Flask-Login, Flask,
  Flask-Threads), and the gate/recorder/tracker the library probes share;
* ``imports`` -- post-import hooks: a library probe is loaded only when the fixture imports
  its library;
* ``greenlets`` (gevent, eventlet), ``asyncviews`` (asgiref's loop for ``async def``
  views), ``scheduling`` (APScheduler), ``taskqueues`` (Celery, RQ, dramatiq, huey) --
  the library probes.
* ``harness`` -- the subprocess entry point: import the fixture, drive every route with the
  test client, wait for everything the request started, write a JSON result; plus the
  parent-side helper that launches it with a timeout.
* ``verdict`` -- pure comparison of a fixture's markers with the observations.
* ``summary`` -- pytest hooks that print the executed/confirmed/clean/skipped summary,
  also under pytest-xdist.
"""
