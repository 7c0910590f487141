"""The finders behind the codes -- dispatch sites (``dispatch.py``, ``task_sites.py``),
values that cross (``crossing.py``), streamed responses (``streaming.py``) -- and the
code registry with every message's wording (``codes.py``)."""
