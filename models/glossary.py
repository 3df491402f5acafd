"""UK children's social care initials and jargon, with what they mean and plainer words.

Each entry: (term as usually written, what it stands for, what to write instead). Terms in capitals
are matched case-sensitively (so "DA" is found but "da" is not); other terms ignore case.
"""

GLOSSARY: list[tuple[str, str, str]] = [
    ("CIN", "child in need", "child in need"),
    ("CP", "child protection", "child protection"),
    ("CPP", "child protection plan", "child protection plan"),
    ("ICPC", "initial child protection conference", "first child protection meeting"),
    ("RCPC", "review child protection conference", "review child protection meeting"),
    ("PLO", "public law outline", "the pre-court process"),
    ("DSL", "designated safeguarding lead", "the school's safeguarding lead"),
    ("HV", "health visitor", "health visitor"),
    ("CAMHS", "child and adolescent mental health services", "children's mental health service"),
    ("EHCP", "education, health and care plan", "education, health and care plan"),
    ("LAC", "looked after child", "child in care"),
    ("CLA", "child looked after", "child in care"),
    ("MASH", "multi-agency safeguarding hub", "the team that first looks at concerns about children"),
    ("DA", "domestic abuse", "domestic abuse"),
    ("DV", "domestic violence", "domestic abuse"),
    ("s47", "section 47 enquiry", "child protection enquiry"),
    ("S47", "section 47 enquiry", "child protection enquiry"),
    ("disguised compliance", "appearing to co-operate without real change",
     "saying they will make changes but not making them"),
]
