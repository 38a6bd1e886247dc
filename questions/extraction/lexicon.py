"""Small hand-made word lists the rules rely on."""

from __future__ import annotations

import re

DEMONYMS = {
    "russian": "Russia",
    "chinese": "China",
    "american": "the United States",
    "u.s.": "the United States",
    "us": "the United States",
    "indian": "India",
    "pakistani": "Pakistan",
    "iranian": "Iran",
    "afghan": "Afghanistan",
    "tajik": "Tajikistan",
    "tajikistani": "Tajikistan",
    "uzbek": "Uzbekistan",
    "kazakh": "Kazakhstan",
    "kyrgyz": "Kyrgyzstan",
    "turkmen": "Turkmenistan",
    "turkish": "Turkey",
    "british": "the United Kingdom",
    "uk": "the United Kingdom",
    "french": "France",
    "german": "Germany",
    "italian": "Italy",
    "spanish": "Spain",
    "japanese": "Japan",
    "korean": "South Korea",
    "north korean": "North Korea",
    "south korean": "South Korea",
    "ukrainian": "Ukraine",
    "belarusian": "Belarus",
    "polish": "Poland",
    "israeli": "Israel",
    "saudi": "Saudi Arabia",
    "egyptian": "Egypt",
    "brazilian": "Brazil",
    "mexican": "Mexico",
    "canadian": "Canada",
    "australian": "Australia",
    "european": "the European Union",
    "eu": "the European Union",
    "taiwanese": "Taiwan",
    "vietnamese": "Vietnam",
    "indonesian": "Indonesia",
    "nigerian": "Nigeria",
    "kenyan": "Kenya",
    "ethiopian": "Ethiopia",
    "syrian": "Syria",
    "iraqi": "Iraq",
    "qatari": "Qatar",
    "emirati": "the United Arab Emirates",
    "dutch": "the Netherlands",
    "swedish": "Sweden",
    "finnish": "Finland",
    "norwegian": "Norway",
    "danish": "Denmark",
    "greek": "Greece",
    "hungarian": "Hungary",
    "romanian": "Romania",
    "serbian": "Serbia",
    "georgian": "Georgia",
    "armenian": "Armenia",
    "azerbaijani": "Azerbaijan",
    "mongolian": "Mongolia",
    "chilean": "Chile",
    "argentine": "Argentina",
    "colombian": "Colombia",
    "venezuelan": "Venezuela",
    "cuban": "Cuba",
    "south african": "South Africa",
    "philippine": "the Philippines",
    "filipino": "the Philippines",
    "thai": "Thailand",
    "malaysian": "Malaysia",
    "singaporean": "Singapore",
    "bangladeshi": "Bangladesh",
    "nepali": "Nepal",
    "sri lankan": "Sri Lanka",
    "moldovan": "Moldova",
    "lithuanian": "Lithuania",
    "latvian": "Latvia",
    "estonian": "Estonia",
    "czech": "the Czech Republic",
    "slovak": "Slovakia",
    "austrian": "Austria",
    "swiss": "Switzerland",
    "belgian": "Belgium",
    "irish": "Ireland",
    "portuguese": "Portugal",
    "scottish": "Scotland",
    "welsh": "Wales",
    "algerian": "Algeria",
    "moroccan": "Morocco",
    "libyan": "Libya",
    "sudanese": "Sudan",
    "somali": "Somalia",
    "ghanaian": "Ghana",
    "senegalese": "Senegal",
    "malian": "Mali",
    "nigerien": "Niger",
}
# "Sino-Russian" -> China and Russia; "Indo-Pakistani" -> India and Pakistan.
COMBINING = {
    "sino": "China",
    "russo": "Russia",
    "indo": "India",
    "franco": "France",
    "anglo": "the United Kingdom",
    "us": "the United States",
    "u.s.": "the United States",
    "euro": "Europe",
    "afpak": "Afghanistan",
    "turco": "Turkey",
    "greco": "Greece",
    "italo": "Italy",
    "nippo": "Japan",
    "sovieto": "the Soviet Union",
}

# Base forms of verbs that describe something that can be seen to happen.
CONCRETE_VERBS = set(
    """recognize recognise join admit sign ratify deploy establish create build remove hold expand
    withdraw attend elect vote approve pass launch agree open close sanction lift impose invade attack
    annex appoint resign win lose default raise cut hike lower merge acquire ban announce adopt
    accept reject release publish host visit meet restore suspend resume deliver supply send
    station set form found enact veto repeal seize capture leave exit enter conclude negotiate
    extend renew grant increase decrease reach exceed fall rise collapse fire dismiss arrest
    indict convict acquit nominate confirm declare designate delist list move relocate transfer
    hand cede normalize normalise reopen shut begin start end finish complete test fly land
    invest fund finance borrow lend pay award overturn strike settle sue file""".split()  # noqa: SIM905
)
# Other common verbs, so that a finite verb can be found in a clause.
OTHER_VERBS = set(
    """be have do go seek try want decide choose move aim plan intend need deepen strengthen
    engage cooperate coordinate work support oppose push pursue continue keep stay remain seem appear
    become show indicate signal suggest mean lead pave provide allow enable help make take give get
    see look follow manage handle address navigate play use face prevent stop avoid block limit
    reduce boost improve change turn bring put offer ask call urge propose demand require warn
    threaten promise pledge expect hope fear believe think say tell report claim argue deny confirm
    consider explore discuss debate review study examine monitor watch respond react cope compete
    include involve exclude align build share develop grow shift emerge happen occur prove prefer
    slow walk rush drive integrate balance maintain retain protect defend secure patrol train
    exercise drill cancel postpone delay intervene presage herald portend mark cross tolerate
    speak talk""".split()  # noqa: SIM905
)
VERBS = CONCRETE_VERBS | OTHER_VERBS

IRREGULAR_3SG = {"is": "be", "are": "be", "has": "have", "does": "do", "goes": "go"}
IRREGULAR_BASE_3SG = {"be": "is", "have": "has", "do": "does", "go": "goes"}

MODALS = {"will", "would", "can", "could", "may", "might", "shall", "should", "must"}

# Nominalisations: "the creation of X" -> "create X".
NOUN_VERB = {
    "recognition": "recognize",
    "creation": "create",
    "establishment": "establish",
    "removal": "remove",
    "expansion": "expand",
    "admission": "admit",
    "accession": "join",
    "withdrawal": "withdraw",
    "deployment": "deploy",
    "ratification": "ratify",
    "adoption": "adopt",
    "approval": "approve",
    "election": "elect",
    "appointment": "appoint",
    "formation": "form",
    "launch": "launch",
    "signing": "sign",
    "passage": "pass",
    "introduction": "introduce",
    "lifting": "lift",
    "imposition": "impose",
    "extension": "extend",
    "renewal": "renew",
    "suspension": "suspend",
    "restoration": "restore",
    "normalization": "normalize",
    "normalisation": "normalise",
    "construction": "build",
    "opening": "open",
    "closure": "close",
    "merger": "merge",
    "acquisition": "acquire",
    "annexation": "annex",
    "invasion": "invade",
    "ban": "ban",
}

# Vague nouns that make a question hard to resolve.
ABSTRACT = set(
    """relationship relations ties interests influence leverage perception perceptions role limits
    position positions mind vision identity identities agenda agendas parameters depth tolerance
    determination balance appearance playbook dynamics future prospects partnership sentiment
    confidence attitudes legacy stress test impact priorities importance trust""".split()  # noqa: SIM905
)

STOPWORDS = set(
    """a an the and or but if then else of for to in on at by with from as is are was were be been
    being it its this that these those there their they them he she his her we our you your i my
    me not no nor so than too very can could will would shall should may might must do does did
    has have had having into over under about after before between through during without within
    upon also just only even more most much many some any each every other such own same both
    either neither whether which who whom whose what when where why how all few new one two three
    first second third next last while although though because since until unless yet still thus
    however whereas perhaps likely unlikely might""".split()  # noqa: SIM905
)

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def stem(word: str) -> str:
    """A crude stem, enough to match "recognize"/"recognition"/"recognised"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.replace("ise", "ize").replace("isa", "iza")
    for suffix in (
        "izations",
        "ization",
        "itions",
        "ition",
        "ations",
        "ation",
        "ments",
        "ment",
        "ings",
        "ing",
        "ized",
        "izes",
        "ize",
        "ies",
        "ied",
        "ed",
        "es",
        "s",
        "ly",
    ):
        if len(w) - len(suffix) >= 4 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 2}


def base_form(token: str) -> str | None:
    """Base form of a finite or base verb token, or None if it is not a known verb."""
    t = token.lower()
    if t in IRREGULAR_3SG:
        return IRREGULAR_3SG[t]
    if t in VERBS:
        return t
    if t.endswith("ies") and t[:-3] + "y" in VERBS:
        return t[:-3] + "y"
    if t.endswith("es") and t[:-2] in VERBS:
        return t[:-2]
    if t.endswith("s") and t[:-1] in VERBS:
        return t[:-1]
    return None


def third_person(verb: str) -> str:
    v = verb.lower()
    if v in IRREGULAR_BASE_3SG:
        return IRREGULAR_BASE_3SG[v]
    if v.endswith("y") and len(v) > 2 and v[-2] not in "aeiou":
        return v[:-1] + "ies"
    if v.endswith(("s", "sh", "ch", "x", "z", "o")):
        return v + "es"
    return v + "s"


def gerund_base(token: str) -> str | None:
    """ "creating" -> "create", "joining" -> "join", "setting" -> "set"."""
    t = token.lower()
    if not t.endswith("ing") or len(t) < 5:
        return None
    root = t[:-3]
    for cand in (root, root + "e", root[:-1] if len(root) > 2 and root[-1] == root[-2] else None):
        if cand and cand in VERBS:
            return cand
    return None


#: Month and weekday names: capitalised, but never an actor.
CALENDAR_WORDS = frozenset(
    {
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    }
)

# --- Quantities (numeric drafts, figures, the linter) -----------------------------------------

#: Nouns a figure can count or measure, mapped to one spelling: "7,000 Afghan refugees",
#: "$3 billion in aid", "2.7 million tonnes".
QUANTITY_NOUNS = {
    **{w: "refugees" for w in ("refugee", "refugees", "asylum-seekers", "returnees", "evacuees")},
    **{w: "migrants" for w in ("migrant", "migrants")},
    **{w: "people" for w in ("people", "persons", "civilians", "residents", "inhabitants")},
    **{w: "troops" for w in ("troops", "soldiers", "servicemen", "personnel", "peacekeepers", "reservists")},
    **{w: "flights" for w in ("flight", "flights")},
    **{w: "visits" for w in ("visit", "visits", "trips")},
    **{
        w: "agreements"
        for w in ("agreement", "agreements", "deals", "contracts", "memoranda", "memorandums", "treaties", "accords")
    },
    **{w: "tonnes" for w in ("tonnes", "tons", "tonne", "ton")},
    **{w: "barrels" for w in ("barrels", "barrel")},
    "aid": "aid",
    "assistance": "aid",
    "loans": "loans",
    "loan": "loans",
    "investment": "investment",
    "investments": "investment",
    "trade": "trade",
    "exports": "exports",
    "imports": "imports",
    "tourists": "tourists",
    "visitors": "visitors",
    "students": "students",
    "workers": "workers",
    "jobs": "jobs",
    "projects": "projects",
    "deaths": "deaths",
    "casualties": "casualties",
    "attacks": "attacks",
    "incidents": "incidents",
    "arrests": "arrests",
    "drones": "drones",
    "missiles": "missiles",
    "aircraft": "aircraft",
    "vehicles": "vehicles",
    "trucks": "trucks",
    "containers": "containers",
    "ships": "ships",
    "vessels": "vessels",
    "meetings": "meetings",
    "summits": "summits",
    "bases": "bases",
    "embassies": "embassies",
}

#: Nouns that name a measure of something: "the number of", "the share of", "the value of".
MEASURE_HEADS = frozenset(
    """number numbers count total volume value level amount size share proportion percentage fraction
    portion price cost turnover""".split()  # noqa: SIM905
)
