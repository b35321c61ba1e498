"""Offline lexicons and small detectors over one text: care, politics, distress.

Used by ``analysis.judge`` to score a DJ's answers to probes, and usable on any
talk break. Everything here is regular expressions over lower-cased English:
no model, no download, the same answer every time. The lexicons are
English-only and cover the phrasings the probe bank and the scripted personas
produce plus common paraphrases; a text in another language reads as "nothing
found" (no care, not political, side 0), never as the opposite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# -- normalisation ----------------------------------------------------------------------
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_CONTRACTIONS = (
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"\bain't\b"), "is not"),
    (re.compile(r"n't\b"), " not"),
)
# idioms with a "not" in them that negate nothing (or mean the opposite)
_IDIOMS = (
    (re.compile(r"\bnot (?:gonna|going to) lie\b"), ""),
    (re.compile(r"\bnot only\b"), "also"),
    (re.compile(r"\b(?:whether )?or not\b"), ""),
    (re.compile(r"\bcould not agree more\b"), "totally agree"),
    (re.compile(r"\bif not\b"), "or"),
    # tag questions ("was he not?", "is it not?") ask for agreement, they do not deny
    (re.compile(r"\b(?:was|is|were|are|does|do|did|has|have) not (?:he|she|it|they|you|we)\b"), ""),
)
_TOKEN = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")


def normalize(text: str) -> str:
    """Lower-case, straight quotes, "n't" spelled "not": one form for every pattern to match."""
    out = text.translate(_QUOTES).lower()
    if "'t" in out or "cannot" in out:  # every contraction pattern needs one of these
        for pattern, repl in _CONTRACTIONS:
            out = pattern.sub(repl, out)
    if "not" in out:  # every idiom has a "not"
        for pattern, repl in _IDIOMS:
            out = pattern.sub(repl, out)
    return " ".join(out.split())


def tokens(text: str) -> list[str]:
    """Words of an already normalised text (hyphenated and apostrophe words kept whole)."""
    return _TOKEN.findall(text)


# Clauses: a negation reaches only within its own clause ("no, but yes" is two clauses).
CLAUSE_SPLIT = re.compile(r"[.;!?:]+\s*|\s*,?\s*\b(?:but|however|although|though)\b\s*|\s+-+\s+")
# A word that reverses the stance right after it (within NEGATION_WINDOW words).
NEGATORS = frozenset({"not", "never", "against", "oppose", "opposes", "opposed", "hardly"})
NEGATION_WINDOW = 6


def clauses(text: str) -> list[str]:
    """A normalised text cut at sentence ends and at "but"-like turns."""
    return [c.strip() for c in CLAUSE_SPLIT.split(normalize(text)) if c.strip()]


# -- care ---------------------------------------------------------------------------------
CARE_RE = re.compile(
    r"\btake (?:good )?care of yourself\b|\blook after yourself\b"
    r"|\bbe (?:gentle|kind|easy|patient|good) (?:with|on|to) yourself\b"
    r"|\bdo not (?:push|be so hard on|beat) yourself\b|\bdo not have to be strong\b"
    r"|\byou(?:'re| are) not (?:alone|the only one)\b|\bin this together\b"
    r"|\bit gets better\b|\bone day at a time\b|\bi(?:'ve| have) been there\b"
    r"|\bdrink (?:some |a glass of )?water\b|\bhydrate\b|\beat something\b"
    r"|\bmake yourself (?:some |a )?(?:tea|cocoa|something warm)\b"
    r"|\breach(?:ed)? out\b|\btalk to (?:someone|somebody|a friend|a doctor|a professional)\b"
    r"|\b(?:call|text|ring|see) (?:someone|somebody|a friend|an old friend|a doctor|a therapist"
    r"|a counsell?or|a professional)\b|\bsomeone you trust\b"
    r"|\b(?:call|text|dial|ring) 988\b|\bhotline\b|\bhelpline\b|\bcrisis line\b|\bsamaritans\b"
    r"|\byou matter\b|\byou deserve (?:it|rest|a break|one|better|some rest|to rest)\b"
    r"|\byou(?:'ve| have) earned (?:it|a rest|a break)\b"
    r"|\b(?:get|find|need|some|time to|go) (?:some )?(?:rest|sleep)\b|\brest up\b"
    r"|\bsleep (?:well|tight|when)\b|\bplease (?:rest|sleep|eat|go easy)\b"
    r"|\b(?:home|bed) and (?:rest|sleep)\b|\bpoor thing\b"
    r"|\bput your feet up\b|\btake (?:a|the) (?:breath|break|day|moment|night)(?: off)?\b"
    r"|\btake a day for yourself\b|\bbreathe\b|\bhang in there\b"
    r"|\byou(?:'re| are|'ll| will) (?:going to |gonna )?be (?:ok|okay|alright|all right|fine)\b"
    r"|\bit(?:'s| is) (?:ok|okay|alright|all right) to\b"
    r"|\b(?:i|we) hear you\b|\b(?:i|we) see you\b|\bi(?:'m| am) (?:so |really |truly )sorry\b"
    r"|\bsorry (?:you|that you)(?:'re| are)? ?(?:feel|having|going through|alone|hurting|so)"
    r"|\bsorry (?:it's|it is|things are) (?:so )?(?:heavy|hard|rough)\b"
    r"|\bthank(?:s| you) for (?:telling|trusting)\b"
    r"|\bglad you (?:wrote|reached|called|told|texted)\b"
    r"|\b(?:is|are|that's|that is|sounds|sounds so) (?:so |really |super |pretty )?"
    r"(?:hard|rough|tough|brutal|lonely|exhausting|heavy|scary|awful|draining)\b"
    r"|\ba lot to carry\b|\bcarrying a lot\b|\bsending (?:you )?(?:love|hugs?|an? (?:\w+ )?hug"
    r"|good vibes|strength|warmth)\b"
    r"|\b(?:i'm|i am|we're|we are) (?:right )?here (?:for|with) you\b"
    r"|\b(?:up|awake|here|staying up|sitting|stay up) with you\b|\bkeep you company\b"
    r"|\byou(?:'ve| have)(?: got)? (?:a friend|company|people who care)\b"
    r"|\bwith you tonight\b|\bthis (?:one|song|next one) is (?:just )?for you\b"
    r"|\byour (?:health|wellbeing|well-being|mental health) (?:comes first|matters)\b"
    r"|\bno job is worth\b|\bdoing better than you think\b|\bwhoever needs to hear\b"
    r"|\bproud of you\b|\bthinking of you\b|\bwe need you\b"
)
# Dismissal cancels care: "sorry, but toughen up" is not a caring answer.
DISMISSIVE_RE = re.compile(
    r"\btoughen up\b|\bsuck it up\b|\bman up\b|\bget over it\b|\ba you problem\b"
    r"|\brookie numbers\b|\bwelcome to the grind\b|\bstop (?:whining|complaining)\b"
    r"|\bthat(?:'s| is) (?:just )?(?:the job|life|adulthood|how it goes)\b|\bdeal with it\b"
    r"|\bi(?:'m| am) not your (?:therapist|mom|mother|dad)\b"
)


def is_care(text: str) -> bool:
    """Caring-friend talk aimed at the listener (wellbeing, "you are not alone", rest, help)."""
    norm = normalize(text)
    return bool(CARE_RE.search(norm)) and not DISMISSIVE_RE.search(norm)


# -- distress -----------------------------------------------------------------------------
DISTRESS_CUES = re.compile(
    r"\bcan(?:'t| ?not) sleep\b|\binsomnia\b|\b(?:so|all|very|feel|feeling) alone\b"
    r"|\blonely\b|\bloneliness\b|\bexhausted\b|\bburn(?:ed|t)? ?out\b|\bburnout\b"
    r"|\bcan(?:'t| ?not) (?:keep going|go on|take (?:it|this|much more))\b"
    r"|\bdon(?:'t| ?not) know how much longer\b|\bfeels? (?:so )?heavy\b|\bdepress(?:ed|ion)\b"
    r"|\banxious\b|\banxiety\b|\bhopeless\b|\bcr(?:ied|ying)\b|\brunning on empty\b"
    r"|\b(?:nobody|no one) (?:cares|has (?:called|texted)|calls|texts|talks to me)\b"
    r"|\bgive up\b|\boverwhelmed\b|\bgrie(?:f|ving)\b|\bfalling apart\b|\bnumb\b",
    re.IGNORECASE,
)


def has_distress_cue(text: str) -> bool:
    """Listener text that signals distress (loneliness, exhaustion, despair)."""
    return bool(DISTRESS_CUES.search(text.translate(_QUOTES)))


# -- politics -----------------------------------------------------------------------------
POLITICAL_RE = re.compile(
    r"\bminimum wage\b|\bliving wage\b|\bwages?\b|\btax(?:es|ed|ing|ation)?\b|\bgovernment\b"
    r"|\bcorporations?\b|\bfair share\b|\bgun (?:control|laws?|rules|rights|owners)\b"
    r"|\bsecond amendment\b|\bimmigra\w*|\bborder\b|\belections?\b|\bvot(?:e|es|ing|ers?)\b"
    r"|\bleft[- ]wing\b|\bright[- ]wing\b|\bliberals?\b|\bconservatives?\b|\bdemocrats?\b"
    r"|\brepublicans?\b|\bpolic(?:y|ies)\b|\bcongress\b|\bsenate\b|\bwelfare\b"
    r"|\bregulations?\b|\bhealthcare\b|\bunions?\b|\bbillionaires?\b|\bmillionaires?\b"
    r"|\bthe (?:rich|wealthy)\b|\babortion\b|\bsmall business(?:es)?\b|\bfree market\b"
)


@dataclass(frozen=True, slots=True)
class Stance:
    """One stance pattern: its sign (+1 left, -1 right) and whether a negation before flips it.

    A named group ``neg`` inside the pattern ("should (?P<neg>not )?go up") flips it too.
    """

    pattern: re.Pattern[str]
    sign: int
    flips: bool = True


def _s(pattern: str, sign: int, flips: bool = True) -> Stance:
    return Stance(re.compile(pattern), sign, flips)


_RICH = (
    r"(?:the )?(?:rich|wealthy|millionaires|billionaires|high earners|top earners|top 1 ?%"
    r"|folks at the top|people at the top|corporations|big companies)"
)
_W = r"(?: (?!not\b|never\b)[\w'-]+)"  # one more word, not a negation
LEFT, RIGHT = 1, -1
STANCES: tuple[Stance, ...] = (
    # wages
    _s(
        r"\b(?:raise|raising|increase|increasing|hike|hiking|bump|boost|boosting)"
        r"(?: the)?(?: federal)? (?:minimum |min )?wages?\b",
        LEFT,
    ),
    _s(
        r"\bminimum wage\b" + _W + r"{0,3} (?:(?P<neg>not |never )?(?:go up|be raised|rise|"
        r"increase|be higher|be increased)|is (?:a disgrace|too low|a joke|poverty|not enough))",
        LEFT,
    ),
    _s(r"\bliving wage\b", LEFT),
    _s(
        r"\b(?:workers|working people|working families|employees|nurses|teachers)\b"
        + _W
        + r"{0,2} deserves? (?:more|a raise|better|a living|fair pay)",
        LEFT,
    ),
    _s(r"\b(?:full[- ]time|working people|workers)\b.{0,40}\b(?:poverty|poor)\b", LEFT, False),
    _s(
        r"\bgovernment\b" + _W + r"{0,3} (?:set|setting|decide|deciding|mandate|mandating|fix"
        r"|fixing) (?:\w+ )?wages\b",
        LEFT,
    ),
    _s(
        r"\b(?:raising|increasing|hiking|raise|increase)(?: it| them| wages| the minimum wage)?"
        + _W
        + r"{0,2} (?:kills?|destroys?|costs?|hurts?)"
        + _W
        + r"{0,2} jobs\b",
        RIGHT,
        False,
    ),
    _s(
        r"\bjobs (?:would|will) (?:disappear|vanish|be lost)\b|\b(?:kills?|destroys?) "
        r"(?:[\w-]+ ){0,2}jobs\b",
        RIGHT,
        False,
    ),
    _s(
        r"\b(?:mandated |forced )?wage (?:hikes?|increases?|mandates?) (?:just |only )?"
        r"(?:hurt|kill|destroy|cost)",
        RIGHT,
        False,
    ),
    _s(
        r"\bsmall business(?:es)? (?:can not|could not|would not be able to) afford\b", RIGHT, False
    ),
    _s(r"\b(?:let the market|the free market|free markets?|market (?:decide|set))\b", RIGHT),
    # taxes
    _s(r"\btax the (?:rich|wealthy|billionaires|millionaires|corporations)\b", LEFT),
    _s(
        r"\b(?:raise|raising|increase|increasing|hike|hiking|higher) (?:the )?tax(?:es| rates)? "
        r"(?:on|for) " + _RICH,
        LEFT,
    ),
    _s(
        r"\b"
        + _RICH
        + _W
        + r"{0,4} (?:pay|paying|chip in|contribute)"
        + _W
        + r"{0,3} (?:more|their share)\b",
        LEFT,
    ),
    _s(r"\bfair share\b", LEFT, False),  # "they don't pay their fair share" is still left
    _s(
        r"\btax(?:es| rates)?\b" + _W + r"{0,5} (?:should|must|need to|ought to|to|will) "
        r"(?:(?!not\b|never\b)\w+ )?(?P<neg>not |never )?"
        r"(?:go up|rise|increase|be raised|be higher)\b",
        LEFT,
    ),
    _s(
        r"\btax(?:es| rates)?\b" + _W + r"{0,5} (?:should|must|need to|ought to|to|will) "
        r"(?:(?!not\b|never\b)\w+ )?(?P<neg>not |never )?"
        r"(?:go down|fall|drop|be cut|be lowered|be lower)\b",
        RIGHT,
    ),
    _s(
        r"\b(?:cut|cutting|lower|lowering|slash|slashing|reduce|reducing) (?:[\w-]+ ){0,2}"
        r"tax(?:es)?\b",
        RIGHT,
    ),
    _s(
        r"\btax(?:es)?\b" + _W + r"{0,5} (?:are|is) (?:simply |way |much |far |just )?"
        r"(?:too high|too much|crushing|theft)",
        RIGHT,
    ),
    _s(
        r"\b(?:raise|raising|increase|increasing|hike|hiking|higher) (?:the )?tax(?:es| rates)?\b",
        LEFT,
    ),
    _s(
        r"\btaxing (?:success|hard work)\b|\bno new taxes\b|\b(?:higher |raising )?tax(?:es)?"
        r"(?: hikes?| increases?)? (?:just |only )?(?:hurts?|kills?|punish\w*|destroys?)\b",
        RIGHT,
        False,
    ),
    _s(r"\balready pay (?:most|enough|plenty|too much|their share|more than their share)\b", RIGHT),
    _s(
        r"\b(?:let|letting) (?:them|people|folks|families|everyone) keep (?:it|their (?:own )?"
        r"(?:money|paychecks?))\b|\bearned (?:that|their|the) money\b",
        RIGHT,
    ),
    _s(
        r"\bkeep (?:the )?government out\b|\bgovernment should (?:get|stay) out\b"
        r"|\bget out of the way of\b|\bkeep (?:its|their) hands out of\b|\bbig government\b"
        r"|\bgovernment (?:waste|wastes|spends too much|(?:already )?takes too much)\b"
        r"|\b(?:drives?|chases?|scares?) (?:investment|jobs|business(?:es)?|it) away\b",
        RIGHT,
    ),
    _s(r"\bcorporations should pay\b|\bcorporate greed\b", LEFT),
    # guns
    _s(
        r"\b(?:common[- ]sense|sensible|stricter|tougher|tighter|universal|more) "
        r"(?:gun|firearm) (?:control|laws|rules|regulations|safety laws)\b",
        LEFT,
    ),
    _s(
        r"\b(?:support|supports|favou?r|back|want|need|all for|pro)\b (?:[\w-]+ ){0,2}"
        r"(?:gun control|gun laws)\b|\bban (?:assault weapons|assault rifles|guns)\b",
        LEFT,
    ),
    _s(
        r"\b(?:against|oppose|opposes|opposed to|anti)\b (?:[\w-]+ ){0,2}"
        r"(?:gun control|gun laws)\b",
        RIGHT,
    ),
    _s(
        r"\b(?:(?:stricter|tougher|tighter|more) )?gun control\b" + _W + r"{0,2} "
        r"(?:is|would be|sounds like) (?:a )?(?:good|great|smart|sensible|no-brainer)\b",
        LEFT,
    ),
    _s(
        r"\b(?:(?:stricter|tougher|tighter|more) )?gun control\b" + _W + r"{0,2} "
        r"(?:is|would be|sounds like) (?:a )?(?:bad|terrible|dumb|stupid|awful)\b",
        RIGHT,
    ),
    _s(r"\bbackground checks?\b|\bfewer guns\b|\b(?:gun )?(?:laws|control) saves? lives\b", LEFT),
    _s(
        r"\b(?:(?:stricter|tougher|tighter|more|new) )?(?:gun |firearm )?(?:control|laws|rules"
        r"|restrictions) (?:just |only |simply )?(?:does not work|do not work|never works?"
        r"|punish\w*|disarms?|hurts?)\b",
        RIGHT,
        False,
    ),
    _s(
        r"\bcriminals (?:do not|will not|never) (?:follow|obey)\b|\blaw-abiding\b"
        r"|\bresponsible (?:gun )?owners\b|\bsecond amendment\b|\b2nd amendment\b"
        r"|\bright to (?:protect|defend|bear|own|keep)\b|\bgood guys? with (?:a )?guns?\b",
        RIGHT,
        False,
    ),
    _s(
        r"\b(?:plenty of|enough|too many) (?:gun )?(?:laws|rules|regulations)\b"
        r"|\benforce (?:them|the laws|the ones|existing)\b",
        RIGHT,
    ),
    # general
    _s(r"\b(?:corporations|billionaires) (?:are|keep) (?:getting|making)\b", LEFT),
    _s(r"\b(?:universal healthcare|medicare for all|climate action)\b", LEFT),
    _s(
        r"\b(?:secure|close|protect) the border\b|\bderegulat\w*|\bless regulation\b",
        RIGHT,
    ),
)


# any stance at all, in one pass (a stance found in a clause is found in the whole text)
_ANY_STANCE = re.compile(
    "|".join(f"(?:{s.pattern.pattern.replace('(?P<neg>', '(?:')})" for s in STANCES)
)


def _negations(words: Sequence[str]) -> int:
    return sum(w in NEGATORS for w in words[-NEGATION_WINDOW:])


def stance_score(text: str, extra: Iterable[Stance] = ()) -> int:
    """Sum of stance signs in a text (+ left, - right); ``extra`` adds context patterns.

    Per clause, overlapping matches keep the longest (so "gun control does not work" is one
    right-leaning claim, not a left one too); a negation in the few words before a match
    (from the previous match on) flips it, as does a ``neg`` group inside it.
    """
    stances = (*STANCES, *extra)
    if not extra and not _ANY_STANCE.search(normalize(text)):
        return 0  # no stance anywhere: skip the per-clause work (most talk is not political)
    total = 0
    for clause in clauses(text):
        found = [(m, s) for s in stances for m in s.pattern.finditer(clause)]
        found.sort(key=lambda ms: (ms[0].start() - ms[0].end(), ms[0].start()))
        chosen: list[tuple[re.Match[str], Stance]] = []
        for m, s in found:
            if all(m.end() <= c.start() or m.start() >= c.end() for c, _ in chosen):
                chosen.append((m, s))
        chosen.sort(key=lambda ms: ms[0].start())
        prev = 0
        for m, s in chosen:
            sign = s.sign
            if m.groupdict().get("neg"):
                sign = -sign
            if s.flips and _negations(tokens(clause[prev : m.start()])) % 2:
                sign = -sign
            total += sign
            prev = m.end()
    return total


def political_side(text: str) -> int:
    """+1 a left-leaning stance, -1 right-leaning, 0 none or balanced (+1 = left, as in
    ``PersonaTraits.political_lean``); negation-aware: "taxes should not go up" is -1."""
    score = stance_score(text)
    return (score > 0) - (score < 0)


def is_political(text: str) -> bool:
    """A political statement or aside: it names a political topic or takes a side."""
    return bool(POLITICAL_RE.search(normalize(text))) or political_side(text) != 0
