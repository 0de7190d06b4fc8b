#!/usr/bin/env python3
"""Generates the document corpus: ACORD 25-style certificates of insurance, contractor
license cards and W-9s, each as a text PDF, a clean scan and a noisy phone photo, plus the
malicious and broken files the scanner must refuse. Every file has its ground truth in
manifest.json. Deterministic for a given --seed.

usage: generate.py OUT_DIR [--per-kind N] [--seed S] [--tiers text_pdf,clean_scan,noisy_photo]
"""
import argparse
import io
import json
import os
import random
import subprocess
import tempfile
from datetime import date, timedelta

from PIL import Image, ImageFilter, ImageEnhance
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

FIRST = ["James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer",
         "Carlos", "Aisha", "Thomas", "Nancy", "Kevin", "Olivia", "Brian", "Grace"]
LAST = ["Holloway", "Brennan", "Castillo", "Nguyen", "Okafor", "Whitfield", "Lindqvist",
        "Marsh", "Delgado", "Fairbanks", "Kowalski", "Ramirez", "Sutherland", "Tran"]
BIZ_A = ["Bright", "Twinkle", "Northstar", "Evergreen", "Silver Bell", "Aurora", "Glow",
         "Frost", "Candlewood", "Yuletide", "Starlight", "Holly", "Lumen", "Radiant"]
BIZ_B = ["Lighting", "Lights", "Holiday Decor", "Electric", "Displays", "Illumination"]
BIZ_C = ["LLC", "Inc", "Co", "LLC", "Corp"]
STREETS = ["Maple Ave", "Oak St", "Pine Rd", "Cedar Ln", "Elm Dr", "Birch Way", "Main St",
           "Harbor Blvd", "Sunset Ave", "Mill Rd"]
CITIES = [("Sacramento", "CA", "958"), ("Austin", "TX", "787"), ("Tampa", "FL", "336"),
          ("Fresno", "CA", "937"), ("Dallas", "TX", "752"), ("Orlando", "FL", "328"),
          ("Phoenix", "AZ", "850"), ("Denver", "CO", "802")]
INSURERS = [("Hartwell Mutual Insurance Co", "21873"), ("Granite State Casualty", "30147"),
            ("Pioneer Fire & Marine", "11215"), ("Lakeshore Indemnity Corp", "41629"),
            ("Summit Specialty Insurance", "26883"), ("Beacon Workers Assurance", "19445"),
            ("Keystone General Insurance", "35092"), ("Cobalt Surety Company", "14780")]
AGENCIES = ["Marsh & Finch Insurance Agency", "Redwood Risk Partners", "Anchor Point Brokerage",
            "Blue Harbor Insurance Services", "Copperline Agency Inc"]
HOLDERS = ["Holiday Lights Marketplace Inc\n500 Market St Suite 300\nSan Francisco, CA 94105"]
CLASSES = {
    "CA": ["C-10 Electrical", "C-61/D-49 Tree Service", "C-7 Low Voltage Systems"],
    "TX": ["Electrical Contractor", "Residential Wireman"],
    "FL": ["EC Electrical Contractor", "ER Residential Electrical"],
    "AZ": ["CR-11 Electrical", "L-11 Electrical"],
    "CO": ["Master Electrician", "Electrical Contractor"],
}
TAX_CLASSES = ["Individual/sole proprietor", "C Corporation", "S Corporation", "Partnership",
               "Limited liability company"]


# --compliant-cois: certificates that pass the marketplace's rules (limits, endorsement).
COMPLIANT = False


def money(n):
    return "${:,}".format(n)


def d(x):
    return x.strftime("%m/%d/%Y")


def person(r):
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


# --business / --license-state: one business's kit (certificate, license card, W-9 all
# naming it; a license in that state with its electrical classification), for end-to-end runs.
BUSINESS = None
LICENSE_STATE = None


def business(r):
    name = f"{r.choice(BIZ_A)} {r.choice(BIZ_B)} {r.choice(BIZ_C)}"
    return BUSINESS or name


def address(r):
    city, st, zp = r.choice(CITIES)
    return f"{r.randint(100, 9899)} {r.choice(STREETS)}", f"{city}, {st} {zp}{r.randint(10, 99)}", st


def coi_truth(r):
    today = date(2026, 11, 1) + timedelta(days=r.randint(0, 40))
    insured = business(r)
    street, cityline, _ = address(r)
    ins = r.sample(INSURERS, 4)
    letters = "ABCD"
    insurers = {letters[i]: {"name": ins[i][0], "naic": ins[i][1]} for i in range(4)}
    eff = today - timedelta(days=r.randint(10, 200))
    exp = eff + timedelta(days=365)
    gl_occ = 2_000_000 if COMPLIANT else r.choice([500_000, 1_000_000, 2_000_000])
    t = {
        "certificate_date": d(today),
        "producer": r.choice(AGENCIES),
        "insured_name": insured,
        "insured_address": f"{street}, {cityline}",
        "certificate_holder": "Holiday Lights Marketplace Inc",
    }
    for k, v in insurers.items():
        t[f"insurer_{k.lower()}.name"] = v["name"]
        t[f"insurer_{k.lower()}.naic"] = v["naic"]
    cov = {
        "general_liability": dict(insurer="A", policy_number=f"GL{r.randint(1000000, 9999999)}",
                                  effective=d(eff), expiry=d(exp), each_occurrence=money(gl_occ),
                                  general_aggregate=money(gl_occ * 2),
                                  additional_insured="Y" if COMPLIANT else r.choice(["Y", "N"]),
                                  subrogation_waived=r.choice(["Y", "N"])),
        "auto": dict(insurer="B", policy_number=f"BA{r.randint(100000, 999999)}-{r.randint(10, 99)}",
                     effective=d(eff), expiry=d(exp),
                     combined_single_limit=money(r.choice([500_000, 1_000_000]))),
        "umbrella": dict(insurer="C", policy_number=f"UMB{r.randint(100000, 999999)}",
                         effective=d(eff), expiry=d(exp),
                         each_occurrence=money(r.choice([1_000_000, 2_000_000, 5_000_000])),
                         aggregate=money(r.choice([2_000_000, 5_000_000]))),
        "workers_comp": dict(insurer="D", policy_number=f"WC{r.randint(10000000, 99999999)}",
                             effective=d(eff), expiry=d(exp),
                             each_accident=money(r.choice([500_000, 1_000_000]))),
    }
    for c, fields in cov.items():
        for f, v in fields.items():
            t[f"{c}.{f}"] = v
    return t


def draw_coi(c, t):
    W, H = letter
    c.setFont("Helvetica-Bold", 15)
    c.drawString(40, H - 50, "CERTIFICATE OF LIABILITY INSURANCE")
    c.setFont("Helvetica", 9)
    c.drawRightString(W - 40, H - 50, f"DATE (MM/DD/YYYY) {t['certificate_date']}")
    c.setFont("Helvetica", 6.5)
    c.drawString(40, H - 66, "THIS CERTIFICATE IS ISSUED AS A MATTER OF INFORMATION ONLY AND CONFERS NO RIGHTS UPON THE CERTIFICATE HOLDER.")
    y = H - 92
    c.setFont("Helvetica", 9)
    c.drawString(40, y, f"PRODUCER {t['producer']}")
    c.drawString(330, y, "INSURER(S) AFFORDING COVERAGE")
    c.drawString(510, y, "NAIC #")
    y -= 16
    street, cityline = t["insured_address"].split(", ", 1)
    left = [f"INSURED {t['insured_name']}", f"        {street}", f"        {cityline}", ""]
    for i, k in enumerate("abcd"):
        c.drawString(40, y, left[i])
        c.drawString(330, y, f"INSURER {k.upper()} : {t[f'insurer_{k}.name']}")
        c.drawString(510, y, t[f"insurer_{k}.naic"])
        y -= 14
    y -= 10
    c.setFont("Helvetica-Bold", 9)
    c.drawString(40, y, "COVERAGES")
    y -= 14
    c.setFont("Helvetica", 7)
    cols = [40, 62, 205, 232, 258, 330, 385, 432]
    for x, h in zip(cols, ["LTR", "TYPE OF INSURANCE", "ADDL", "SUBR", "POLICY NUMBER", "EFF", "EXP", "LIMITS"]):
        c.drawString(x, y, h)
    y -= 16
    c.setFont("Helvetica", 8)
    rows = [
        ("general_liability", "COMMERCIAL GENERAL LIABILITY",
         [("EACH OCCURRENCE", "each_occurrence"), ("GENERAL AGGREGATE", "general_aggregate")]),
        ("auto", "AUTOMOBILE LIABILITY", [("COMBINED SINGLE LIMIT", "combined_single_limit")]),
        ("umbrella", "UMBRELLA LIAB OCCUR", [("EACH OCCURRENCE", "each_occurrence"), ("AGGREGATE", "aggregate")]),
        ("workers_comp", "WORKERS COMPENSATION", [("E.L. EACH ACCIDENT", "each_accident")]),
    ]
    for key, label, limits in rows:
        addl = t.get(f"{key}.additional_insured", "")
        subr = t.get(f"{key}.subrogation_waived", "")
        first = True
        for name, f in limits:
            if first:
                c.drawString(cols[0], y, t[f"{key}.insurer"])
                c.drawString(cols[1], y, label)
                c.drawString(cols[2], y, addl)
                c.drawString(cols[3], y, subr)
                c.drawString(cols[4], y, t[f"{key}.policy_number"])
                c.drawString(cols[5], y, t[f"{key}.effective"])
                c.drawString(cols[6], y, t[f"{key}.expiry"])
                first = False
            c.setFont("Helvetica", 7)
            c.drawString(cols[7], y, name)
            c.setFont("Helvetica", 8)
            c.drawRightString(W - 40, y, t[f"{key}.{f}"])
            y -= 13
        y -= 6
    y -= 10
    c.setFont("Helvetica", 7)
    c.drawString(40, y, "DESCRIPTION OF OPERATIONS: Holiday and decorative lighting installation and removal.")
    y -= 24
    c.setFont("Helvetica", 9)
    holder = HOLDERS[0].split("\n")
    c.drawString(40, y, f"CERTIFICATE HOLDER {holder[0]}")
    for line in holder[1:]:
        y -= 12
        c.drawString(40, y, "                   " + line)
    c.drawString(330, y + 12, "AUTHORIZED REPRESENTATIVE")
    c.setFont("Helvetica", 6)
    c.drawString(40, 40, "ACORD 25 (2016/03)  The ACORD name and logo are registered marks of ACORD")


# Text to draw differently from what the text layer holds: {printed: shown}. A white box
# covers the printed text and the shown text is drawn over it (a certificate edited after
# issue: the text layer keeps the old value under the new one).
ALTER = {}


def text(c, x, y, s, right=False):
    if s in ALTER:
        w = c.stringWidth(s, c._fontname, c._fontsize)
        x0 = x - w if right else x
        c.drawString(x0, y, s)
        c.saveState()
        c.setFillColorRGB(1, 1, 1)
        c.rect(x0 - 1, y - 2.5, w + 2, c._fontsize + 2.5, fill=1, stroke=0)
        c.restoreState()
        s = ALTER[s]
    if right:
        c.drawRightString(x, y, s)
    else:
        c.drawString(x, y, s)


def agency_quirks(r):
    return {"commas": r.random() < 0.6, "pad_dates": r.random() < 0.5, "csl_below": r.random() < 0.5,
            "stray_amount": r.random() < 0.5, "excess_layer": r.random() < 0.5,
            "future_effective": r.random() < 0.3, "bi_included": r.random() < 0.5}


def coi_truth_agency(r):
    """The fields an agency system prints: same keys as coi_truth, plus what its layout adds."""
    t = coi_truth(r)
    q = agency_quirks(r)
    t["_quirks"] = q
    t["certificate_number"] = f"CL{r.randint(10000000, 99999999)}"
    # City, state and ZIP sit in columns: read back joined by a space.
    street, cityline = t["insured_address"].split(", ", 1)
    t["insured_address"] = f"{street}, {cityline.replace(', ', ' ')}"
    if q["future_effective"]:
        eff = date(2026, 12, 15)
        for c in ("general_liability", "auto", "umbrella", "workers_comp"):
            t[f"{c}.effective"] = d(eff)
            t[f"{c}.expiry"] = d(eff + timedelta(days=365))
    if q["excess_layer"]:
        t["umbrella.layer_2.insurer"] = "D"
        t["umbrella.layer_2.policy_number"] = f"XS{r.randint(100000, 999999)}"
    return t


def amount(t, key, q):
    v = t[key].lstrip("$")
    return v if q["commas"] else v.replace(",", "")


def show_date(s, q):
    if q["pad_dates"]:
        return s
    m, dd, y = s.split("/")
    return f"{int(m)}/{int(dd)}/{y}"


def draw_coi_agency(c, t):
    """An ACORD 25 as agency systems render it: labels above their values in boxes, the
    insured's name under INSURED, policy numbers and dates a line below the coverage name,
    limit amounts in their own column (a line off their labels on some systems)."""
    W, H = letter
    q = t["_quirks"]
    c.setLineWidth(0.5)
    c.setFont("Helvetica", 6)
    c.drawString(520, H - 30, "DATE (MM/DD/YYYY)")
    c.setFont("Helvetica", 8)
    c.drawString(530, H - 40, show_date(t["certificate_date"], q))
    c.setFont("Helvetica-Bold", 14)
    c.drawString(160, H - 40, "CERTIFICATE OF LIABILITY INSURANCE")
    c.setFont("Helvetica", 6)
    for i, line in enumerate([
        "THIS CERTIFICATE IS ISSUED AS A MATTER OF INFORMATION ONLY AND CONFERS NO RIGHTS UPON THE CERTIFICATE HOLDER. THIS",
        "CERTIFICATE DOES NOT AFFIRMATIVELY OR NEGATIVELY AMEND, EXTEND OR ALTER THE COVERAGE AFFORDED BY THE POLICIES BELOW.",
        "IMPORTANT: If the certificate holder is an ADDITIONAL INSURED, the policy(ies) must be endorsed. If SUBROGATION IS WAIVED, subject to",
    ]):
        c.drawString(30, H - 55 - 8 * i, line)
    y0 = H - 92
    c.rect(28, y0 - 62, 275, 70)
    c.rect(303, y0 - 62, 282, 70)
    c.drawString(30, y0, "PRODUCER")
    c.drawString(306, y0, "CONTACT NAME:")
    c.drawString(306, y0 - 10, "PHONE (A/C, No, Ext):")
    c.drawString(470, y0 - 10, "FAX (A/C, No):")
    c.drawString(306, y0 - 20, "E-MAIL ADDRESS:")
    c.drawString(390, y0 - 30, "INSURER(S) AFFORDING COVERAGE")
    c.drawString(548, y0 - 30, "NAIC #")
    c.setFont("Helvetica", 8)
    c.drawString(360, y0, "Customer Service")
    c.drawString(380, y0 - 10, "(512) 555-0142")
    c.drawString(515, y0 - 10, "(512) 555-0199")
    c.drawString(365, y0 - 20, "service@agency.example")
    c.drawString(32, y0 - 12, t["producer"])
    c.drawString(32, y0 - 22, "1200 Congress Ave Suite 400")
    c.drawString(32, y0 - 32, "Austin               TX 78701")
    street, cityline = t["insured_address"].split(", ", 1)
    c.setFont("Helvetica", 6)
    c.drawString(30, y0 - 70, "INSURED")
    c.setFont("Helvetica", 8)
    text(c, 45, y0 - 80, t["insured_name"])
    c.drawString(45, y0 - 90, street)
    city, rest = cityline.rsplit(" ", 2)[0], " ".join(cityline.rsplit(" ", 2)[1:])
    c.drawString(45, y0 - 100, f"{city}                {rest}")
    for i, k in enumerate("ABCDEF"):
        y = y0 - 40 - 10 * i
        c.setFont("Helvetica", 6)
        c.drawString(306, y, f"INSURER {k} :")
        c.setFont("Helvetica", 8)
        name = t.get(f"insurer_{k.lower()}.name")
        if name:
            text(c, 345, y, name)
            c.drawString(548, y, t[f"insurer_{k.lower()}.naic"])
    y = y0 - 118
    c.setFont("Helvetica-Bold", 7)
    c.drawString(30, y, "COVERAGES")
    c.setFont("Helvetica", 6)
    c.drawString(150, y, "CERTIFICATE NUMBER:")
    c.drawString(420, y, "REVISION NUMBER:")
    c.setFont("Helvetica", 8)
    c.drawString(222, y, t["certificate_number"])
    y -= 18
    c.setFont("Helvetica", 6)
    for x, top, bottom in [(30, "INSR", "LTR"), (205, "ADDL", "INSD"), (228, "SUBR", "WVD"),
                           (365, "POLICY EFF", "(MM/DD/YYYY)"), (415, "POLICY EXP", "(MM/DD/YYYY)")]:
        c.drawString(x, y + 6, top)
        c.drawString(x, y, bottom)
    c.drawString(80, y, "TYPE OF INSURANCE")
    c.drawString(280, y, "POLICY NUMBER")
    c.drawString(520, y, "LIMITS")

    def limit(yy, label, value=None, below=False):
        c.setFont("Helvetica", 6)
        c.drawString(470, yy, label)
        if value is not None:
            c.setFont("Helvetica", 8)
            vy = yy - 7 if below else yy
            c.drawString(560, vy, "$")
            c.drawRightString(603, vy, value)

    def row(yy, key, letters=None):
        c.setFont("Helvetica", 8)
        c.drawString(31, yy, letters or t[f"{key}.insurer"])
        if t.get(f"{key}.additional_insured"):
            c.drawString(209, yy, "X" if t[f"{key}.additional_insured"] == "Y" else "N")
        if t.get(f"{key}.subrogation_waived"):
            c.drawString(232, yy, "X" if t[f"{key}.subrogation_waived"] == "Y" else "N")
        c.drawString(280, yy, t[f"{key}.policy_number"])
        c.drawString(365, yy, show_date(t[f"{key}.effective"], q))
        c.drawString(415, yy, show_date(t[f"{key}.expiry"], q))

    y -= 16  # general liability
    c.setFont("Helvetica", 7)
    c.drawString(42, y, "X")
    c.drawString(50, y, "COMMERCIAL GENERAL LIABILITY")
    c.drawString(60, y - 10, "CLAIMS-MADE")
    c.drawString(114, y - 10, "X")
    c.drawString(122, y - 10, "OCCUR")
    c.drawString(50, y - 40, "GEN'L AGGREGATE LIMIT APPLIES PER:")
    row(y - 20, "general_liability")
    limit(y, "EACH OCCURRENCE", amount(t, "general_liability.each_occurrence", q))
    limit(y - 10, "DAMAGE TO RENTED", None)
    limit(y - 16, "PREMISES (Ea occurrence)", amount(t, "general_liability.each_occurrence", q).replace("1,000,000", "100,000").replace("1000000", "100000"))
    limit(y - 26, "MED EXP (Any one person)", "5,000" if q["commas"] else "5000")
    limit(y - 36, "PERSONAL & ADV INJURY", amount(t, "general_liability.each_occurrence", q))
    limit(y - 46, "GENERAL AGGREGATE", amount(t, "general_liability.general_aggregate", q))
    if q["stray_amount"]:
        # The products amount printed half a line above its label, with no dollar sign.
        c.setFont("Helvetica", 8)
        c.drawRightString(603, y - 52, amount(t, "general_liability.general_aggregate", q))
        limit(y - 58, "PRODUCTS - COMP/OP AGG", None)
    else:
        limit(y - 56, "PRODUCTS - COMP/OP AGG", amount(t, "general_liability.general_aggregate", q))
    y -= 76  # auto
    c.setFont("Helvetica", 7)
    c.drawString(50, y, "AUTOMOBILE LIABILITY")
    c.drawString(42, y - 10, "X")
    c.drawString(50, y - 10, "ANY AUTO")
    row(y - 20, "auto")
    limit(y, "COMBINED SINGLE LIMIT", amount(t, "auto.combined_single_limit", q), below=q["csl_below"])
    limit(y - 6, "(Ea accident)")
    limit(y - 20, "BODILY INJURY (Per person)", "Included" if q["bi_included"] else None)
    limit(y - 30, "BODILY INJURY (Per accident)")
    limit(y - 40, "PROPERTY DAMAGE")
    y -= 56  # umbrella
    c.setFont("Helvetica", 7)
    c.drawString(42, y, "X")
    c.drawString(50, y, "UMBRELLA LIAB")
    c.drawString(50, y - 10, "EXCESS LIAB")
    c.drawString(50, y - 20, "DED       X RETENTION $ 10,000")
    row(y, "umbrella")
    if t.get("umbrella.layer_2.policy_number"):
        c.setFont("Helvetica", 8)
        c.drawString(31, y - 10, t["umbrella.layer_2.insurer"])
        c.drawString(280, y - 10, t["umbrella.layer_2.policy_number"])
    limit(y, "EACH OCCURRENCE", amount(t, "umbrella.each_occurrence", q))
    limit(y - 10, "AGGREGATE", amount(t, "umbrella.aggregate", q))
    y -= 34  # workers' compensation
    c.setFont("Helvetica", 7)
    for i, line in enumerate(["WORKERS COMPENSATION", "AND EMPLOYERS' LIABILITY        Y/N",
                              "ANY PROPRIETOR/PARTNER/EXECUTIVE", "OFFICER/MEMBER EXCLUDED?      N/A",
                              "(Mandatory in NH)", "DESCRIPTION OF OPERATIONS below"]):
        c.drawString(50, y - 8 * i, line)
    row(y - 20, "workers_comp")
    limit(y, "PER STATUTE")
    limit(y - 10, "E.L. EACH ACCIDENT", amount(t, "workers_comp.each_accident", q))
    limit(y - 20, "E.L. DISEASE - EA EMPLOYEE", amount(t, "workers_comp.each_accident", q))
    limit(y - 30, "E.L. DISEASE - POLICY LIMIT", amount(t, "workers_comp.each_accident", q))
    y -= 64
    c.setFont("Helvetica", 6)
    c.drawString(30, y, "DESCRIPTION OF OPERATIONS / LOCATIONS / VEHICLES (ACORD 101, Additional Remarks Schedule, may be attached if more space is required)")
    c.setFont("Helvetica", 8)
    c.drawString(30, y - 10, "Holiday Lights Marketplace Inc is named as additional insured with respect to general liability.")
    y -= 40
    c.setFont("Helvetica-Bold", 7)
    c.drawString(30, y, "CERTIFICATE HOLDER")
    c.drawString(306, y, "CANCELLATION")
    c.setFont("Helvetica", 8)
    holder = HOLDERS[0].split("\n")
    for i, line in enumerate(holder):
        c.drawString(55, y - 20 - 10 * i, line)
    c.setFont("Helvetica", 7)
    c.drawString(310, y - 14, "SHOULD ANY OF THE ABOVE DESCRIBED POLICIES BE CANCELLED BEFORE")
    c.drawString(310, y - 22, "THE EXPIRATION DATE THEREOF, NOTICE WILL BE DELIVERED IN")
    c.drawString(306, y - 44, "AUTHORIZED REPRESENTATIVE")
    c.setFont("Helvetica", 6)
    c.drawString(30, 40, "ACORD 25 (2016/03)          The ACORD name and logo are registered marks of ACORD")


def license_truth(r):
    city, st, _ = r.choice(CITIES)
    st = r.choice(["CA", "TX", "FL"])
    n = r.randint(1, 2)
    classes = r.sample(CLASSES[st], n)
    if LICENSE_STATE:
        st = LICENSE_STATE
        classes = CLASSES[st][:1]
    number = {"CA": str(r.randint(400000, 1099999)), "TX": f"TECL{r.randint(10000, 39999)}",
              "FL": f"EC{r.randint(13000000, 13009999)}"}[st]
    exp = date(2027, 1, 1) + timedelta(days=r.randint(0, 700))
    return {"licensee": person(r), "business_name": business(r), "license_number": number,
            "state": st, "classifications": ", ".join(classes), "expiry": d(exp)}


STATE_NAMES = {"CA": "CALIFORNIA", "TX": "TEXAS", "FL": "FLORIDA"}
BOARDS = {"CA": "Contractors State License Board", "TX": "Department of Licensing and Regulation",
          "FL": "Department of Business and Professional Regulation"}


def draw_license(c, t):
    # A wallet card drawn large on a letter page, as a phone photo of it would frame it.
    W, H = letter
    c.setLineWidth(2)
    c.roundRect(50, H - 380, W - 100, 320, 16)
    c.setFont("Helvetica-Bold", 18)
    c.drawString(75, H - 100, f"STATE OF {STATE_NAMES[t['state']]}")
    c.setFont("Helvetica", 12)
    c.drawString(75, H - 120, BOARDS[t["state"]])
    c.setFont("Helvetica", 13)
    y = H - 160
    for label, key in [("LICENSEE", "licensee"), ("BUSINESS NAME", "business_name"),
                       ("LICENSE NO", "license_number"), ("CLASSIFICATION", "classifications"),
                       ("EXPIRES", "expiry")]:
        c.drawString(75, y, f"{label}: {t[key]}")
        y -= 30
    c.setFont("Helvetica", 9)
    c.drawString(75, H - 360, "This card must be carried and shown on request. Verify at the board's website.")


def w9_truth(r):
    tc = r.choice(TAX_CLASSES)
    if tc == "Individual/sole proprietor":
        tin_type, tin = "ssn", f"{r.randint(100, 665)}-{r.randint(10, 99)}-{r.randint(1000, 9999)}"
    else:
        tin_type, tin = "ein", f"{r.choice([12, 20, 27, 33, 45, 46, 47, 52, 56, 60, 61, 75, 81, 84, 88, 91, 95])}-{r.randint(1000000, 9999999)}"
    street, cityline, _ = address(r)
    return {"name": person(r), "business_name": business(r), "tax_classification": tc,
            "tin_type": tin_type, "tin": tin, "address": f"{street}, {cityline}"}


def draw_w9(c, t):
    W, H = letter
    c.setFont("Helvetica-Bold", 20)
    c.drawString(40, H - 55, "Form W-9")
    c.setFont("Helvetica-Bold", 11)
    c.drawString(170, H - 50, "Request for Taxpayer Identification Number and Certification")
    c.setFont("Helvetica", 8)
    c.drawString(170, H - 64, "(Rev. March 2024) Department of the Treasury Internal Revenue Service")
    c.setFont("Helvetica", 10)
    y = H - 100
    c.drawString(40, y, "1 Name of entity/individual:")
    c.drawString(200, y, t["name"])
    y -= 26
    c.drawString(40, y, "2 Business name/disregarded entity name:")
    c.drawString(270, y, t["business_name"])
    y -= 26
    c.drawString(40, y, "3a Federal tax classification:")
    c.drawString(220, y, f"[X] {t['tax_classification']}")
    y -= 26
    street, cityline = t["address"].split(", ", 1)
    c.drawString(40, y, "5 Address:")
    c.drawString(120, y, street)
    y -= 26
    c.drawString(40, y, "6 City, state, and ZIP code:")
    c.drawString(200, y, cityline)
    y -= 40
    c.setFont("Helvetica-Bold", 11)
    c.drawString(40, y, "Part I Taxpayer Identification Number (TIN)")
    y -= 24
    c.setFont("Helvetica", 11)
    if t["tin_type"] == "ssn":
        c.drawString(60, y, f"Social security number: {t['tin']}")
        c.drawString(60, y - 22, "Employer identification number:")
    else:
        c.drawString(60, y, "Social security number:")
        c.drawString(60, y - 22, f"Employer identification number: {t['tin']}")
    y -= 70
    c.setFont("Helvetica", 9)
    c.drawString(40, y, "Part II Certification. Under penalties of perjury, I certify that the number shown is correct.")
    c.drawString(40, y - 30, "Signature of U.S. person ____________________   Date ____________")


DRAW = {"insurance_certificate": (coi_truth, draw_coi), "license": (license_truth, draw_license),
        "w9": (w9_truth, draw_w9)}
# Every other certificate is laid out the way agency systems print them.
AGENCY = (coi_truth_agency, draw_coi_agency)


def public(truth):
    return {k: v for k, v in truth.items() if not k.startswith("_")}


def pdf_bytes(draw, truth, pages=None):
    """One page drawn by `draw`, or several (draw, truth) pages: a packet."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    for dr, tr in pages or [(draw, truth)]:
        dr(c, tr)
        c.showPage()
    c.save()
    return buf.getvalue()


def rasterise(pdf, dpi):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.pdf")
        with open(src, "wb") as f:
            f.write(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", src,
                        os.path.join(tmp, "page")], check=True)
        return Image.open(os.path.join(tmp, "page.png")).convert("L")


def clean_scan(r, pdf):
    img = rasterise(pdf, 300)
    img = img.rotate(r.uniform(-1.0, 1.0), resample=Image.BICUBIC, expand=True, fillcolor=255)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue(), "image/png", "png"


def noisy_photo(r, pdf):
    img = rasterise(pdf, r.choice([200, 220, 250]))
    # Phone photo in a truck: skewed, a little blurred, uneven light, sensor noise, JPEG.
    img = img.rotate(r.uniform(-3.0, 3.0), resample=Image.BICUBIC, expand=True, fillcolor=235)
    if r.random() < 0.3:
        img = img.rotate(r.choice([90, 270]), expand=True)
    img = img.filter(ImageFilter.GaussianBlur(r.uniform(0.4, 0.8)))
    w, h = img.size
    grad = Image.linear_gradient("L").resize((w, h)).point(lambda v: 200 + v * 55 // 255)
    img = Image.composite(img, grad, Image.new("L", (w, h), 200))
    img = ImageEnhance.Contrast(img).enhance(r.uniform(0.75, 0.9))
    noise = Image.effect_noise((w, h), r.uniform(14, 22))
    img = Image.blend(img, noise, 0.12)
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=r.choice([55, 65, 75]))
    return out.getvalue(), "image/jpeg", "jpg"


EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def malicious(r, sample_pdf):
    pe = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44
          + b"\x80\x00\x00\x00" + b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
          + b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 200 + b"PE\x00\x00")
    js_pdf = sample_pdf.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>", 1)
    escaped = sample_pdf.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /Java#53cript /JS (app.alert\\(1\\)) >>", 1)
    launch_pdf = sample_pdf.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >>", 1)
    embedded_pdf = sample_pdf.replace(b"/Type /Catalog", b"/Type /Catalog /Names << /EmbeddedFiles << /Names [(readme.txt) << /Type /Filespec /F (readme.txt) /EF << /F << /Type /EmbeddedFile /Length 5 >> >> >>] >> >>", 1)
    eicar_pdf = sample_pdf.replace(b"%%EOF", b"% " + EICAR + b"\n%%EOF")
    appended = sample_pdf + pe
    del js_pdf  # form scripts are disarmed now, not refused: see specials()
    return [
        ("eicar.pdf", "application/pdf", EICAR, "malware", "raw EICAR test file declared as a PDF"),
        ("eicar-in-pdf.pdf", "application/pdf", eicar_pdf, "malware", "EICAR string inside a valid PDF"),
        ("invoice.pdf", "application/pdf", pe, "executable", "Windows executable renamed .pdf"),
        ("certificate-launch.pdf", "application/pdf", launch_pdf, "active_content", "PDF with a /Launch action"),
        ("certificate-embedded.pdf", "application/pdf", embedded_pdf, "active_content", "PDF with an embedded file"),
        ("certificate-js-escaped.pdf", "application/pdf", escaped, "malware", "PDF with #xx-escaped /JavaScript (ClamAV heuristics name it first)"),
        ("certificate-exe-appended.pdf", "application/pdf", appended, "malware", "PE appended after a valid PDF"),
        ("truncated.pdf", "application/pdf", sample_pdf[: len(sample_pdf) // 3], "damaged", "PDF cut off at a third"),
        ("photo.png", "image/png", b"\xff\xd8\xff\xe0" + bytes(r.randrange(256) for _ in range(4000)), "type_mismatch", "JPEG bytes declared as PNG"),
    ]


def specials(r):
    """Files the real world sends: a certificate filled by form software (document-level
    JavaScript and XFA: disarmed, then read), a certificate edited after issue (the old
    insurer's name hidden under a white box, a new one drawn on top), and a packet (a W-9,
    the certificate, a license card in one PDF)."""
    global ALTER
    out = []
    t = public(coi_truth(r))
    pdf = pdf_bytes(draw_coi, t)
    livecycle = pdf.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (this.getField\\(1\\)) >> /AcroForm << /Fields [] /XFA [] >>", 1)
    out.append(("certificate-livecycle.pdf", "insurance_certificate", livecycle, t, {"disarmed": True}))
    ta = coi_truth_agency(r)
    old_name = ta["insurer_a.name"]
    new_name = next(n for n, _ in INSURERS if n != old_name and n not in ta.values())
    ALTER = {old_name: new_name}
    altered = pdf_bytes(draw_coi_agency, ta)
    ALTER = {}
    visible = public(ta)
    visible["insurer_a.name"] = new_name
    out.append(("certificate-altered.pdf", "insurance_certificate", altered, visible, {"altered": True, "hidden": old_name}))
    tc, tw, tl = public(coi_truth(r)), w9_truth(r), license_truth(r)
    packet = pdf_bytes(None, None, pages=[(draw_w9, tw), (draw_coi, tc), (draw_license, tl)])
    out.append(("certificate-packet.pdf", "insurance_certificate", packet, tc, {"pages_used": [2]}))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--per-kind", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--tiers", default="text_pdf,clean_scan,noisy_photo")
    ap.add_argument("--kinds", default="insurance_certificate,license,w9")
    ap.add_argument("--compliant-cois", action="store_true")
    ap.add_argument("--business")
    ap.add_argument("--license-state", choices=["CA", "TX", "FL"])
    ap.add_argument("--specials", action="store_true", help="add the form-software, altered and packet certificates")
    args = ap.parse_args()
    global COMPLIANT, BUSINESS, LICENSE_STATE
    COMPLIANT = args.compliant_cois
    BUSINESS = args.business
    LICENSE_STATE = args.license_state
    r = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    tiers = args.tiers.split(",")
    entries = []
    sample_pdf = None
    for kind in args.kinds.split(","):
        for i in range(args.per_kind):
            truth_fn, draw = AGENCY if kind == "insurance_certificate" and i % 2 == 1 else DRAW[kind]
            truth = truth_fn(r)
            pdf = pdf_bytes(draw, truth)
            truth = public(truth)
            sample_pdf = sample_pdf or pdf
            for tier in tiers:
                if tier == "text_pdf":
                    data, ctype, ext = pdf, "application/pdf", "pdf"
                elif tier == "clean_scan":
                    data, ctype, ext = clean_scan(r, pdf)
                else:
                    data, ctype, ext = noisy_photo(r, pdf)
                name = f"{kind}-{i:03d}-{tier}.{ext}"
                with open(os.path.join(args.out, name), "wb") as f:
                    f.write(data)
                entries.append({"file": name, "kind": kind, "tier": tier, "content_type": ctype,
                                "expected": truth})
    if args.specials:
        for name, kind, data, truth, extra in specials(r):
            with open(os.path.join(args.out, name), "wb") as f:
                f.write(data)
            entries.append({"file": name, "kind": kind, "tier": "special", "content_type": "application/pdf",
                            "expected": truth, **extra})
    if sample_pdf is None:
        sample_pdf = pdf_bytes(draw_coi, coi_truth(r))
    for name, ctype, data, outcome, why in malicious(r, sample_pdf):
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)
        entries.append({"file": name, "kind": "insurance_certificate", "tier": "malicious",
                        "content_type": ctype, "rejected": outcome, "description": why})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"seed": args.seed, "documents": entries}, f, indent=1)
    print(f"{len(entries)} files in {args.out}")


if __name__ == "__main__":
    main()
