"""Templates and filler of the synthetic corpus, written for Veil (no sentence here comes from a dataset).

Slots: PER (full name), FIRST, LAST, INIT (initials), DR (a doctor's surname), LOC / CITY / COUNTRY, ORG,
HOSP (a hospital or clinic) are labelled; DATE, MD (month/day), TIME, PHONE, EMAIL, NUM, AGE, MRN are filled and
left unlabelled.
"""

from __future__ import annotations

import random

PROSE = [
    "{PER} moved to {CITY} in {DATE} to work for {ORG}.",
    "Yesterday {FIRST} met {PER} at the {ORG} office in {CITY}.",
    "According to {PER}, the plant near {CITY}, {COUNTRY} will close by {DATE}.",
    "The contract between {ORG} and {ORG} was signed by {PER} on {DATE}.",
    "{PER} was born in {CITY} and now lives in {LOC}.",
    "My neighbour {FIRST} {LAST} says the council in {CITY} ignored the complaint.",
    "We flew from {CITY} to {CITY} with {FIRST} and her brother {FIRST}.",
    "{ORG} hired {PER} as head of research last {DATE}.",
    "The report was written by {PER} and reviewed by {INIT}.",
    "She has been a nurse at {HOSP} since {DATE}.",
    "{LAST} told reporters in {CITY} that {ORG} would appeal.",
    "Thanks to {FIRST}, the team in {COUNTRY} shipped on time.",
    "The package for {PER} is waiting at the {CITY} depot.",
    "In {DATE} the company moved its headquarters from {CITY} to {LOC}.",
    "The meeting is on Monday at {TIME}; {FIRST} will bring the slides.",
    "Please ask {PER} about the invoice from {ORG}.",
    "Our office is closed on public holidays.",
    "The new policy applies to every customer from {DATE}.",
    "Order number {NUM} was shipped on {DATE}.",
    "Monday's meeting was moved to Friday at {TIME}.",
    "The Board approved the Annual Report and the Budget.",
    "He studied at the University of {CITY} before joining {ORG}.",
    "{PER}, {AGE}, of {CITY}, was named chief executive of {ORG}.",
    "Mr. {LAST} and Mrs. {LAST} arrived from {COUNTRY} on {DATE}.",
    "Dr. {LAST} from {HOSP} will give the keynote.",
    "Prof. {PER} leads the lab at {ORG}.",
    "{FIRST}'s flight to {CITY} was cancelled.",
    "Send it to {PER} at {EMAIL} before {DATE}.",
    "Call {FIRST} on {PHONE} if the delivery to {CITY} is late.",
    "Summer in {COUNTRY} is hot; Spring is milder.",
]
EMAIL = [
    "Hi {FIRST},\nThanks for your order. It will ship to {CITY} on {DATE}.\nBest,\n{PER}\n{ORG}",
    "Dear Mr. {LAST},\nYour ticket {NUM} has been escalated.\nRegards, {PER}",
    "Hello support, my name is {PER} and I can't log in since {DATE}. My phone is {PHONE}.",
    "Ticket #{NUM}: customer {PER} from {CITY} reports a double charge.",
    "Subject: refund for {PER}\n\nHi team, please refund order {NUM}. Thanks, {FIRST}",
    "From: {PER} <{EMAIL}>\nTo: {FIRST} {LAST}\nSubject: Meeting in {CITY}",
    "Dear {FIRST}, we have received your application to {ORG}. Kind regards, HR",
    "Hi, I'm {FIRST} {LAST}, I moved from {CITY} to {CITY} and need to update my address.",
    "Please cancel my subscription. Account holder: {PER}. Thanks.",
    "Good morning {FIRST}, the courier from {ORG} will call you on {PHONE}.",
    "My account was locked after the update. Can you help?",
    "The invoice attached is for services rendered in {DATE}.",
    "Cheers,\n{FIRST}\nSent from my phone",
    "Customer: {PER}\nCity: {CITY}\nIssue: card declined at {ORG}",
    "On {DATE}, {PER} wrote:\n> see you in {CITY}",
]
CHAT = [
    "hey {FIRST} r u coming to {CITY} this weekend",
    "lol {FIRST} just texted me from {CITY}",
    "omg {PER} is playing in {CITY} tonight!!",
    "can u send me {FIRST}'s number",
    "@{FIRST} thanks for the help yesterday :)",
    "just landed in {CITY}, {FIRST} is picking me up",
    "anyone know if {ORG} is hiring in {CITY}?",
    "{FIRST} and {FIRST} got married in {COUNTRY} last month",
    "my boss {FIRST} is driving me crazy",
    "watching the game at {FIRST}'s place",
    "is the {CITY} office open today",
    "ugh monday again",
    "cant wait for the weekend",
    "new phone who dis",
    "going to {COUNTRY} w {FIRST} n {FIRST} next week",
    "ask {FIRST} {LAST} she knows the guy at {ORG}",
    "rt if u love {CITY}",
    "{FIRST} pls call me back",
    "happy bday {FIRST}!!! miss u",
    "the wifi at {ORG} is down again",
]
CLINICAL = [
    "{AGE} YO MAN TRANSFERRED FROM {HOSP} FOR CATH.",
    "Pt transferred from {HOSP} to {HOSP} on {MD}.",
    "Dr. {DR} aware of BP.",
    "MD {DR} notified, new orders received.",
    "Seen by Dr. {DR} this AM.",
    "Wife {FIRST} in to visit, updated on plan of care.",
    "Pt's daughter {FIRST} called at {TIME}, updated by RN.",
    "Son {PER} is health care proxy, phone {PHONE}.",
    "Family meeting with Dr. {DR} and Dr. {DR} on {MD}.",
    "Per {FIRST} (RN), pt had good night.",
    "Report given to {FIRST} RN.",
    "{DR} from cardiology in to see pt.",
    "Pt states name is {FIRST}, oriented x3.",
    "Husband {FIRST} {LAST} at bedside, very supportive.",
    "Admitted {MD} from {HOSP} ED with chest pain.",
    "Plan to transfer back to {HOSP} when stable.",
    "Case discussed with {INIT}, fellow.",
    "Neuro: A+Ox3, follows commands. Dr. {DR} to reassess.",
    "Sister {FIRST} from {CITY} called for update.",
    "Pt lives in {CITY} with wife {FIRST}.",
    "Last seen by PCP Dr. {DR} at {HOSP} in {DATE}.",
    "Social work ({FIRST}) following for dispo to rehab in {CITY}.",
    "Pt's friend {FIRST} brought in belongings.",
    "Pt requesting to speak with {FIRST}.",
    "Cath done by Dr. {DR} on {MD}, stent to LAD.",
    "Attending: {DR}. Resident: {DR}.",
    "Discussed with {FIRST} from pharmacy re: vanco dosing.",
    "Dtr {FIRST} plans to visit {MD}.",
    "CT {MD} negative per Dr {DR}.",
    "Pt is {AGE} y/o female admitted {MD} s/p fall at home in {CITY}.",
]
FILLER = [
    "NEURO: A+OX3, MAE, PERRL.", "CV: NSR 80S, NO ECTOPY, BP STABLE.", "RESP: LS CLEAR, RA SAT 97%.",
    "GI: ABD SOFT, NT/ND, +BS. TOL CLEARS.", "GU: FOLEY DRAINING CLEAR YELLOW URINE.", "ID: AFEBRILE, WBC 9.2.",
    "Cont on levo gtt, titrating to MAP > 65.", "ABG 7.38/42/95.", "K 3.6 repleted with 40 mEq KCL.",
    "Skin intact, turned q2h.", "NPO after midnight for ERCP.", "Heparin gtt at 800 units/hr, PTT pending.",
    "Pain controlled with morphine 2 mg IV prn.", "Plan: wean vent as tol, CXR in AM.", "Lasix 40 mg IV given.",
    "Social: full code.", "Vanco trough pending.", "Pt OOB to chair with assist x2.", "IABP 1:1, augmenting well.",
    "Labs sent, Hct 28.", "Swan in place, CVP 12.", "Tele: SR with occ PVCs.", "Echo showed EF 35%.",
    "PO intake poor.", "c/o mild nausea, zofran given with effect.", "MAE, moving all extremities.",
    "Access: R IJ TLC, L radial A-line.", "Resp: 2L NC, sats 95-98%.", "Cardiac enzymes cycling.",
    "Diet: cardiac, tolerating well.", "Insulin SS per protocol.", "Foley d/c'd, voiding qs.",
    "Sedated on propofol, RASS -2.", "ECG unchanged from prior.", "Coags WNL.", "Endo: FS 120-180.",
]  # fmt: skip
HOSPITAL_SHAPES = ["{city} General Hospital", "{city} Medical Center", "St. {last}'s Hospital", "{city} Clinic",
                   "{last} Memorial Hospital", "{city} Rehab", "{city} VA Medical Center", "{abbr}",
                   "{city} Regional", "{last} House", "{abbr} ED"]  # fmt: skip
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def hospital(rng: random.Random, city: str, last: str) -> str:
    letters = "ABCDEFGHJKLMNPRSTVW"
    abbr = "".join(rng.choice(letters) for _ in range(rng.randint(1, 3))) + rng.choice(["H", "MC", "GH", "RH"])
    return rng.choice(HOSPITAL_SHAPES).format(city=city, last=last, abbr=abbr)


def other(rng: random.Random, slot: str, fake: object) -> str:
    """Unlabelled values: the pattern tier finds these, the model must leave them."""
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    if slot == "MD":
        return rng.choice([f"{m}/{d}", f"{m}-{d}", f"{d} {MONTHS[m - 1]}"])
    if slot == "DATE":
        return rng.choice([f"{MONTHS[m - 1]} {rng.randint(1990, 2030)}", f"{m}/{d}/{rng.randint(1950, 2030)}",
                           str(rng.randint(1980, 2030)), f"{d} {MONTHS[m - 1]} {rng.randint(1950, 2030)}"])  # fmt: skip
    if slot == "TIME":
        return rng.choice([f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} {rng.choice(['am', 'pm'])}",
                           f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}"])  # fmt: skip
    if slot == "PHONE":
        return str(fake.phone_number())  # type: ignore[attr-defined]
    if slot == "EMAIL":
        return str(fake.email())  # type: ignore[attr-defined]
    if slot == "AGE":
        return str(rng.randint(18, 97))
    return str(rng.randint(100, 999999))


def clinical_filler(rng: random.Random) -> str:
    return rng.choice(FILLER)
