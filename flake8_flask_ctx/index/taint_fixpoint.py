"""The fixed point behind the semantic gate's taint (``taint.py``): entries of loaded
module summaries wait on the keys they mention, and a tainted key wakes them.

An inverted index (key -> waiting entries) means each entry is looked at once per key it
mentions; ``self.x`` waits per class, and wakes when its method is tainted in the class
or an ancestor (``Taint.ancestry``).  What is loaded, and when, is the ``Explorer``'s
business (``project_taint.py``).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ..knowledge import Knowledge
from .summaries import Entry, Mentions, ModuleSummary
from .taint import ANY_CLASS, Key, NameContext, Taint, base_words, keys_of

#: Debugging aid (``benchmarks``): the first entry that tainted each word, when set.
CAUSES: Optional[Dict[Tuple[str, str], Tuple[Entry, Key]]] = None


class Fixpoint:
    """The spreading itself (see the module docstring)."""

    def __init__(self, knowledge: Knowledge, extensions: bool = True) -> None:
        names, attrs = base_words(knowledge, extensions)
        self.base_names = names
        self.taint = Taint(set(names), set(attrs))
        self._waiting: Dict[Key, List[Tuple[Entry, NameContext]]] = {}
        self._queue: List[Key] = []
        #: Words tainted since ``drain_added`` was last asked (to read more modules).
        self._added: List[str] = []
        #: Entries waiting on ``self.<word>``, by word and by their class (``""``:
        #: outside any class).
        self._methods_waiting: Dict[str, Dict[str, List[Tuple[Entry, NameContext]]]] = {}

    def drain_added(self) -> List[str]:
        added, self._added = self._added, []
        return added

    def add(self, summary: ModuleSummary, context: NameContext) -> None:
        taint = self.taint
        for entry in summary.entries:
            is_base, keys = keys_of(mentions_of_entry(entry), context, entry.kind == "import")
            if is_base or any(taint.holds(key, entry.owner) for key in keys):
                self._taint(entry, context, ("base",) if is_base else next(
                    key for key in keys if taint.holds(key, entry.owner)
                ))
                continue
            for key in keys:
                if key[0] == "m":
                    self._wait_for_method(key[1], entry, context)
                else:
                    self._waiting.setdefault(key, []).append((entry, context))
        self._spread()

    def _wait_for_method(self, word: str, entry: Entry, context: NameContext) -> None:
        by_owner = self._methods_waiting.setdefault(word, {})
        by_owner.setdefault(entry.owner, []).append((entry, context))

    def _taint(self, entry: Entry, context: NameContext, cause: Key = ()) -> None:
        if CAUSES is not None:
            CAUSES.setdefault((context.key, entry.word), (entry, cause))
        word = entry.word
        if entry.top:
            self._mark(("o", context.key, word))
            if entry.kind in ("class", "import"):  # an imported class keeps its calls
                self._mark(("o", context.key, "class:" + word))
        if entry.kind == "attr":
            self._mark(("a", word))
            self._method(ANY_CLASS, word)
        elif entry.kind == "selfattr" or entry.in_class:
            self._method(entry.owner, word)  # a method, a class attribute, self.x = ...
        else:
            self._mark(("n", word))
            if entry.kind in ("class", "import"):
                self._mark(("c", word))

    def _mark(self, key: Key) -> None:
        taint = self.taint
        kind = key[0]
        if kind == "o":
            pair = (key[1], key[2])
            if pair in taint.own:
                return
            taint.own.add(pair)
            word = key[2].rpartition(":")[2]
        else:
            target = {"n": taint.names, "a": taint.attrs, "c": taint.classes}[kind]
            word = key[1]
            if word in target:
                return
            target.add(word)
        self._queue.append(key)
        self._added.append(word)

    def _method(self, owner: str, word: str) -> None:
        classes = self.taint.methods.setdefault(word, set())
        if owner in classes:
            return
        classes.add(owner)
        self._added.append(word)
        self._queue.append(("m", word, owner))

    def _spread(self) -> None:
        while self._queue:
            key = self._queue.pop()
            if key[0] == "m":
                # A method tainted in a class: entries of that class or of classes
                # deriving from it wake (and those outside any class).
                word, tainted_in = key[1], key[2]
                by_owner = self._methods_waiting.get(word, {})
                waiting = []
                for owner in list(by_owner):
                    if (
                        tainted_in == ANY_CLASS or not owner
                        or tainted_in in self.taint.ancestry(owner)
                    ):
                        waiting.extend(by_owner.pop(owner))
            else:
                waiting = self._waiting.pop(key, [])
            for entry, context in waiting:
                self._taint(entry, context, key)


def mentions_of_entry(entry: Entry) -> Mentions:
    return Mentions(
        set(entry.names), set(entry.self_attrs), set(entry.attrs), set(entry.named_attrs),
        set(entry.called),
    )
