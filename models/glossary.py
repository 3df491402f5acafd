"""UK children's social care initials and jargon, with what they mean and plainer words.

Each entry is (term as usually written, what it stands for, what to write instead). "What it
stands for" is written so that it can replace the initials in a sentence (the family version
spells initials out with it); "instead" is the plain wording the author is offered.

How a term is matched is decided in models/plain.py; the tables below say where a term needs
more than its own spelling:

- PATTERNS: terms whose jargon use is a phrase or has several spellings ("meets threshold",
  "presented as", "s47", "section 47").
- NOT_WHEN_FOLLOWED_BY / NOT_WHEN_PRECEDED_BY: initials that have another everyday meaning in
  the same spelling ("DNA test", "SW London").
- ALSO_WORDS: initials that are also English words when shouted in capitals ("SEND", "MASH").
- PLURALS: plural forms that are not the meaning plus "s".
- FAMILY: how the family version writes each jargon phrase in plain words, so that the sentence
  around it still reads (models.plain.family_words).

Kept out on purpose, because a parent knows them or because the app itself uses them as plain
words: GP, NHS, A&E, ADHD, "core group", "neglect", "safety plan", "danger statement", "safety
goal", "bottom line", "safeguarding", "drift" (the recap's own word for late actions). "CSA" is
left out because it means both child sexual abuse and the Child Support Agency, and a wrong
guess in a family's record does harm.
"""

GLOSSARY: list[tuple[str, str, str]] = [
    # --- the child protection process ---
    ("CIN", "child in need", "child in need"),
    ("CP", "child protection", "child protection"),
    ("CPP", "child protection plan", "child protection plan"),
    ("CPC", "child protection conference", "child protection meeting"),
    ("ICPC", "initial child protection conference", "first child protection meeting"),
    ("RCPC", "review child protection conference", "review child protection meeting"),
    ("s47", "child protection enquiry (section 47)",
     "child protection enquiry: the council finding out whether a child is being seriously harmed"),
    ("s17", "support for a child in need (section 17)", "support for a child in need"),
    ("s20", "the child living away from home with the parents' agreement (section 20)",
     "the child living away from home with the parents' agreement"),
    ("s31", "a care order (section 31)", "a care order: the court gives the council parental responsibility"),
    ("strategy discussion", "a meeting of the council, police and health to decide whether to make a"
     " child protection enquiry", "a meeting of the council, police and health about the worries"),
    ("NFA", "no further action", "no further action"),
    ("PLO", "public law outline", "the pre-court process"),
    ("pre-proceedings", "the stage before the council asks a court to decide",
     "the stage before the council asks a court to decide"),
    ("LA", "local authority", "the council"),
    ("CSC", "children's social care", "children's social care"),
    ("MASH", "multi-agency safeguarding hub", "the team that first looks at concerns about children"),
    ("EDT", "emergency duty team", "the out-of-hours social work team"),
    ("LADO", "local authority designated officer",
     "the council officer who looks into concerns about adults who work with children"),
    ("IRO", "independent reviewing officer", "the independent person who chairs the review meetings"),
    ("LSCP", "local safeguarding children partnership", "the local partnership that keeps children safe"),
    ("CP-IS", "child protection information sharing", "the system that tells health services about a"
     " child protection plan"),
    ("threshold", "the level of concern at which a service steps in",
     "say what the worry is and what help is needed"),
    ("step down", "moving to less intensive support", "moving to less intensive support"),
    # --- care and the courts ---
    ("LAC", "looked after child", "child in care"),
    ("CLA", "child looked after", "child in care"),
    ("CiC", "child in care", "child in care"),
    ("PR", "parental responsibility", "parental responsibility: the legal rights and duties of a parent"),
    ("SGO", "special guardianship order", "special guardianship order: a court order for a relative or"
     " friend to bring the child up"),
    ("CAO", "child arrangements order", "child arrangements order: a court order about where a child lives"
     " and who they see"),
    ("EPO", "emergency protection order", "emergency protection order"),
    ("ICO", "interim care order", "a care order while the court decides"),
    ("Cafcass", "Children and Family Court Advisory and Support Service",
     "the service that tells the family court what is best for the child"),
    ("FGC", "family group conference", "family meeting to make a plan together"),
    ("PEP", "personal education plan", "school plan for a child in care"),
    ("RHI", "return home interview", "a talk with the child after they have been missing"),
    # --- people ---
    ("SW", "social worker", "social worker"),
    ("TM", "team manager", "team manager"),
    ("FSW", "family support worker", "family support worker"),
    ("HV", "health visitor", "health visitor"),
    ("MW", "midwife", "midwife"),
    ("DSL", "designated safeguarding lead", "the school's safeguarding lead"),
    ("SENCO", "special educational needs co-ordinator", "the teacher who organises extra help at school"),
    ("EP", "educational psychologist", "educational psychologist"),
    ("EWO", "education welfare officer", "the officer who helps children get to school"),
    ("OT", "occupational therapist", "occupational therapist"),
    ("IDVA", "independent domestic violence adviser", "domestic abuse support worker"),
    # --- services and plans ---
    ("CAMHS", "child and adolescent mental health services", "children's mental health service"),
    ("EHCP", "education, health and care plan", "education, health and care plan"),
    ("SEN", "special educational needs", "extra help with learning"),
    ("SEND", "special educational needs and disabilities", "extra help with learning or a disability"),
    ("SEMH", "social, emotional and mental health needs", "help with feelings and behaviour"),
    ("SALT", "speech and language therapy", "speech and language therapy"),
    ("EH", "early help", "early help: support before problems get worse"),
    ("EHA", "early help assessment", "early help assessment"),
    ("TAF", "team around the family", "the family's support team"),
    ("TAC", "team around the child", "the child's support team"),
    ("YOT", "youth offending team", "the youth justice team"),
    ("MARAC", "multi-agency risk assessment conference",
     "a meeting about keeping someone safe from domestic abuse"),
    ("MAPPA", "multi-agency public protection arrangements",
     "how police, probation and others manage people who may cause harm"),
    ("universal services", "services every family can use, such as the GP, the health visitor and school",
     "services every family can use"),
    # --- worries ---
    ("DA", "domestic abuse", "domestic abuse"),
    ("DV", "domestic violence", "domestic abuse"),
    ("MH", "mental health", "mental health"),
    ("CSE", "child sexual exploitation", "child sexual exploitation"),
    ("CCE", "child criminal exploitation", "children being made to commit crimes"),
    ("NAI", "non-accidental injury", "an injury that was not an accident"),
    ("FII", "fabricated or induced illness", "an illness made up or caused by a carer"),
    ("FGM", "female genital mutilation", "female genital mutilation (cutting)"),
    ("ACE", "adverse childhood experience", "hard things that happened in childhood"),
    ("CME", "child missing education", "child not in school"),
    ("DNA", "did not attend", "did not come"),
    ("toxic trio", "domestic abuse, mental ill health and drug or alcohol misuse together",
     "name each worry in plain words"),
    ("significant harm", "harm serious enough that the council must act (the legal test)",
     "serious harm, and say what could happen to the child"),
    ("contextual safeguarding", "keeping children safe from harm outside the family",
     "keeping the child safe outside the home, such as with friends, online or in the area"),
    ("disguised compliance", "appearing to co-operate without real change",
     "saying they will make changes but not making them"),
    ("protective factors", "things that help keep the child safe", "what is helping to keep the child safe"),
    ("lived experience", "what daily life is like for the child", "what daily life is like for the child"),
    ("hard to reach", "hard for services to get in touch with",
     "say what was tried and what happened, for example two visits with no answer"),
    ("non-compliance", "not doing what was agreed", "say what was agreed and what has not happened"),
    ("engagement", "taking part in the plan or with services",
     "say what was offered and what happened, for example came to two of four appointments"),
    ("presenting as", "seemed", "seemed, or came across as"),
]

# Regular expressions (without the outer word boundaries) for terms matched as phrases or variants.
PATTERNS: dict[str, str] = {
    # s47, S47, s.47, s 47, section 47 (with "enquiry" taken in, so spelling out does not double it)
    "s47": r"(?:[sS]\.?\s?|[Ss]ection\s+)47(?:\s+(?:enquiry|enquiries|investigation|investigations))?",
    "s17": r"(?:[sS]\.?\s?|[Ss]ection\s+)17",
    "s20": r"(?:[sS]\.?\s?|[Ss]ection\s+)20",
    "s31": r"(?:[sS]\.?\s?|[Ss]ection\s+)31",
    # only the jargon use; "the threshold of the door" is not flagged
    "threshold": r"(?i:(?:meets?|met|meeting|reach(?:es|ed)?|below|above|under|over)\s+(?:the\s+)?"
                 r"(?:[\w-]+\s+){0,2}thresholds?|thresholds?\s+for)",
    "step down": r"(?i:step(?:s|ped|ping)?\s+(?:it\s+)?down|step-down)",
    "engagement": r"(?i:(?:dis|non-?)?engag(?:e|es|ed|ing|ement))",
    "non-compliance": r"(?i:non-?complian(?:ce|t))",
    "presenting as": r"(?i:present(?:s|ed|ing)?\s+as)",
    "strategy discussion": r"(?i:strategy\s+(?:discussion|meeting)s?|strat\s+(?:discussion|meeting))",
    "hard to reach": r"(?i:hard[\s-]to[\s-]reach)",
    "pre-proceedings": r"(?i:pre[\s-]proceedings)",
    "SENCO": r"(?i:SENCO|SENDCO)",
    "significant harm": r"(?i:significant\s+harm)",
    # the verb forms a note-taker uses: "DNA'd", "DNAed"
    "DNA": r"DNA(?:'d|'ed|ed|(?P<plural>s))?",
}

# For each pattern above, a piece of text in lower case that every match contains: the check looks for it
# first and runs the pattern only where it is found (tests/test_glossary.py proves none is missed).
NEEDLES: dict[str, str] = {
    "s47": "47", "s17": "17", "s20": "20", "s31": "31",
    "threshold": "threshold", "step down": "step", "engagement": "engag", "non-compliance": "complian",
    "presenting as": "present", "strategy discussion": "strat", "hard to reach": "reach",
    "pre-proceedings": "proceedings", "SENCO": "sen", "significant harm": "harm", "DNA": "dna",
}

# A term is not the jargon when these words come right after it (case-insensitive).
NOT_WHEN_FOLLOWED_BY: dict[str, str] = {
    "DNA": r"test|tests|testing|tested|sample|samples|result|results|evidence|profile|profiling|match|swab"
           r"|swabs|paternity|analysis",
    "SW": r"London|England|Wales|coast|corner|wind",
    "EP": r"record|album|single",
    "OT": r"reading|scripture",
    "engagement": r"to\s+(?!date\b)",  # "engaged to" be married, but not "engaged to date"
}
# ... or when these words come right before it.
NOT_WHEN_PRECEDED_BY: dict[str, str] = {
    "DNA": r"his|her|their|my|your|our|its|the\s+child's|paternity|a\s+paternity",
    "PR": r"the|press|good|bad",  # "the PR team", "press PR": public relations
    "engagement": r"(?:line|phone|number)\s+(?:was|is|were|are)(?:\s+\w+)?",  # a busy telephone line
}

# Initials that are also English words: not matched inside a shouted (all-capitals) sentence.
ALSO_WORDS: frozenset[str] = frozenset({"SEND", "MASH", "SALT", "ACE", "PEP"})

PLURALS: dict[str, str] = {
    "CIN": "children in need",
    "LAC": "looked after children",
    "CLA": "children looked after",
    "CiC": "children in care",
    "CME": "children missing education",
    "DNA": "missed appointments",
    "NAI": "non-accidental injuries",
    "SEN": "special educational needs",
    "MH": "mental health",
    "DA": "domestic abuse",
    "PR": "parental responsibility",
}

# The family version's plain words for each jargon phrase (initials are spelled out with their meaning).
# Each row is (form, plain words) or (form, plain words, only after); the first row that fits is used.
# - form: None for the phrase just as it was found; or a regular expression matched (ignoring case) where
#   the phrase starts, which may take in the next word ("engaged with" -> "worked with"). A named group is
#   put back where the plain words say {name}, itself in plain words.
# - only after: a regular expression that the words just before the phrase must end with.
# Plain words that start with "a" or "the" lose it after "a", "an", "the", "this" or "that".
# Initials may have rows too, where their full name is not what a family needs ("section 47").
# Every phrase in GLOSSARY has rows here, the last of them fitting any form of it (tests/test_glossary.py).
POSSESSIVE = r"a|an|the|this|that|his|her|their|its|my|your|our|[\w-]+'s?"
_VERB = r"(?P<verb>meets?|met|meeting|reach(?:es|ed)?|below|above|under|over)\s+(?:the\s+)?"
_IT = r"(?P<it>\s+it)?"
FAMILY: dict[str, tuple[tuple, ...]] = {
    # the family does not need the section of the Act, only what it is
    "s47": ((None, "child protection enquiry"),),
    "s17": ((None, "support for a child in need"),),
    "s20": ((None, "the child living away from home with the parents' agreement"),),
    "s31": ((None, "a care order"),),
    "strategy discussion": (
        (r"strat(?:egy)?\s+(?:discussion|meeting)s",
         "meetings of the council, police and health to decide whether to look into the worries about a child"),
        (None, "a meeting of the council, police and health to decide whether to look into the worries about a"
               " child"),
    ),
    "pre-proceedings": (
        (r"pre[\s-]proceedings(?=\s+(?:letters?|meetings?|stage|process|work|plan|agreement|team)\b)", "pre-court"),
        (None, "the stage before the council asks a court to decide"),
    ),
    "threshold": (
        (_VERB + r"thresholds?", "{verb} the level of worry needed"),
        (_VERB + r"(?P<inner>(?!the\b)[\w-]+(?:\s+[\w-]+)?)\s+thresholds?", "{verb} the level of worry needed for"
                                                                           " {inner}"),
        (None, "the level of worry needed for"),  # "threshold for"
    ),
    "step down": (
        (rf"steps{_IT}\s+down\s+to\b", "moves{it} down to the lighter support of"),
        (rf"stepped{_IT}\s+down\s+to\b", "moved{it} down to the lighter support of"),
        (rf"stepping{_IT}\s+down\s+to\b", "moving{it} down to the lighter support of"),
        (rf"step{_IT}\s+down\s+to\b", "move{it} down to the lighter support of"),
        (rf"steps{_IT}\s+down", "moves{it} to less intensive support"),
        (rf"stepped{_IT}\s+down", "moved{it} to less intensive support"),
        (rf"stepping{_IT}\s+down", "moving{it} to less intensive support"),
        (rf"step{_IT}\s+down", "move{it} to less intensive support"),
        (r"step-down\s+to\b", "a move down to the lighter support of"),
        (r"step-down(?=\s+(?:plans?|meetings?|process|panel|letter)\b)", "lighter support"),
        (None, "a move to less intensive support"),
    ),
    "engagement": (
        (r"non-?engagement", "a lack of involvement"),
        (r"non-?engag(?:es|ed|ing|e)", "not taking part"),
        (r"disengagement", "pulling away"),
        (r"disengages", "pulls away"),
        (r"disengaged", "pulled away"),
        (r"disengaging", "pulling away"),
        (r"disengage", "pull away"),
        (r"engagement", "involvement"),
        (r"engages\s+with\b", "works with"),
        (r"engaged\s+with\b", "worked with"),
        (r"engaging\s+with\b", "working with"),
        (r"engage\s+with\b", "work with"),
        (r"engages\s+in\b", "joins in"),
        (r"engaged\s+in\b", "joined in"),
        (r"engaging\s+in\b", "joining in"),
        (r"engage\s+in\b", "join in"),
        (r"engages", "joins in"),
        (r"engaged", "joined in"),
        (r"engaging", "joining in"),
        (r"engage", "join in"),
    ),
    "non-compliance": (
        (r"non-?complian(?:ce|t)\s+with\b", "not doing what was agreed about"),
        (None, "not doing what was agreed"),
    ),
    "presenting as": (
        (r"presents\s+as", "seems"),
        (r"presented\s+as", "seemed"),
        (r"presenting\s+as", "coming across as"),
        (r"present\s+as", "seem"),
    ),
    "significant harm": ((None, "serious harm"),),
    "toxic trio": ((None, "the mix of domestic abuse, mental ill health and drug or alcohol misuse"),),
    "contextual safeguarding": (
        (r"contextual\s+safeguarding\s+(?:concerns?|worries|issues|risks?)\b", "worries about harm outside the family"),
        (None, "keeping children safe from harm outside the family"),
    ),
    "disguised compliance": ((None, "appearing to co-operate without real change"),),
    "protective factors": ((None, "things that help keep the child safe"),),
    "lived experience": ((None, "daily life", POSSESSIVE), (r"lived\s+experiences?\s+of\b", "daily life for"),
                         (None, "what daily life is like for the child")),
    "hard to reach": ((r"hard-to-reach", "hard-to-contact"), (None, "hard for services to get in touch with")),
    "Cafcass": ((r"cafcass(?=\s+(?:officers?|workers?|guardians?|advisers?|reports?)\b)", "family court"),
                (None, "the service that tells the family court what is best for the child")),
    "universal services": ((None, "services every family can use, such as the GP, the health visitor and school"),),
}
