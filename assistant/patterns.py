"""Word lists and regular expressions that more than one stage of the answerer reads.

One place for each, with where it came from, so two stages can never disagree about what a
negation or a list question looks like. Lists used by one function only stay next to it.
All patterns match *folded* text (``assistant.text.fold``: lower case, plain quotes).
"""

from __future__ import annotations

import re

# Negation that flips a yes/no answer ("Did X agree?" vs "X did not agree"). Written from the
# gold set's yes/no items (eval/data/gold.jsonl); "none"/"neither"/"cannot" deny a clause too.
POLARITY_NEGATION = re.compile(r"\b(not|no|never|nor|none|neither|n't|without|cannot)\b")

# Negation that *confirms* a negative premise ("Why did X refuse ...?" is supported by "X will
# not ...", "X voted against ..."). Differs from POLARITY_NEGATION on purpose: "against"
# states opposition, and "none"/"neither"/"cannot" were never needed (gold set, dev splits).
PREMISE_NEGATION = re.compile(r"\b(not|no|never|nor|n't|without|against)\b")

# The plural noun a list question asks for: "which (two|other|...) *countries*". Used by the
# question parser for both the list's item labels and its head noun.
LIST_HEAD = re.compile(r"\b(?:which|what) (?:(?:pair of|two|three|four|five|other|[a-z]+) )?([a-z]+s)\b")
