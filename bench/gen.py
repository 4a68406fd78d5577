#!/usr/bin/python3
"""Deterministic corpus of troubleshooting articles in kb/'s format.

usage: gen.py N OUTDIR [SEED]

Writes OUTDIR/articles/NNNNNN.md (Markdown with front matter, one "##"
section per fix), OUTDIR/taxonomy.json (the corpus's models, symptoms, LED
vocabulary and synonyms) and OUTDIR/queries.tsv (class<TAB>query: short,
multi, typo, quoted, led, long).  The same N and SEED give the same bytes.
"""
import json
import os
import random
import sys

BRANDS = ["Anker", "JBL", "Bose", "Sony", "Ultimate Ears", "Tribit", "Marshall",
          "Ortizan", "Doss", "Monster", "Philips", "Samsung", "LG", "Harman",
          "Creative", "Edifier", "Soundpeats", "Aukey", "Xiaomi", "Huawei",
          "Braven", "Treblab", "Cambridge", "Zealot", "Oontz", "Altec", "Kove",
          "Raycon", "Skullcandy", "Polk", "Klipsch", "Sonos", "Beats",
          "Jabra", "Logitech", "Razer", "Fitbit", "Garmin", "Amazfit", "Kindle"]
LINES = ["Soundcore", "Flip", "Charge", "SoundLink", "Boom", "StormBox",
         "Emberton", "SoundBox", "Pulse", "Go", "Clip", "Xtreme", "Wonder",
         "Motion", "Flare", "Spark", "Beam", "Wave", "Echo", "Nova", "Rock",
         "Tune", "Dash", "Vibe", "Halo", "Orbit", "Pebble", "Storm", "Titan"]
PRODUCTS = ["speaker", "headphones", "earbuds", "soundbar", "smartwatch",
            "fitness band", "e-reader", "power bank", "game controller",
            "keyboard"]
SYMPTOMS = [
    ("wont-charge", "Won't charge", ["won't charge", "not charging", "doesn't charge", "no charge"]),
    ("wont-fully-charge", "Won't fully charge", ["won't fully charge", "not full", "stops at 80 percent", "never reaches full"]),
    ("wont-hold-charge", "Won't hold a charge", ["won't hold a charge", "battery drains fast", "dies after an hour", "doesn't stay charged"]),
    ("wont-turn-on", "Won't turn on", ["won't turn on", "no power", "completely dead"]),
    ("connection-drops", "Connection drops", ["keeps disconnecting", "connection drops", "cuts out"]),
    ("no-sound", "No sound", ["no sound", "silent", "no audio"]),
    ("distorted-sound", "Distorted sound", ["crackling", "distorted sound", "buzzing"]),
    ("wont-pair", "Won't pair", ["won't pair", "can't connect", "not showing up in bluetooth"]),
    ("overheating", "Overheating", ["gets hot", "overheating", "too warm"]),
    ("water-damage", "Water damage", ["got wet", "water damage", "dropped in water"]),
    ("button-stuck", "Buttons don't work", ["button stuck", "buttons don't work", "power button broken"]),
    ("firmware-update", "Firmware update", ["firmware update", "update failed", "software update"]),
    ("factory-reset", "Factory reset", ["factory reset", "reset", "restore defaults"]),
    ("slow-charging", "Slow charging", ["charges slowly", "takes forever to charge", "slow charging"]),
    ("led-indicator", "LED indicator", ["red light", "blinking light", "light meaning", "led indicator"]),
]
FIXES = [
    ("Try another cable", "Swap the {cable} for a new one and plug it in firmly. A worn {cable} is the most common reason a {product} stops charging."),
    ("Clean the charging port", "Switch the {product} off and lift lint out of the port with a toothpick, then brush it with isopropyl alcohol. Go gently: the pins are delicate."),
    ("Check the power source", "Plug a lamp into the same outlet, then try a different adapter. Use a {watt} W adapter or a computer USB port."),
    ("Update the firmware", "Install the latest firmware from the companion app. Updates fix bugs that can upset charging, pairing and sound."),
    ("Reset the {model}", "Hold the power button for {sec} seconds until the light turns {color}, then release it and wait for the voice prompt."),
    ("Replace the battery", "Batteries lose capacity as they age. When the {product} won't hold a charge after {years} years, a replacement battery is the fix."),
    ("Straighten the connector pins", "Bent pins in the charging port stop the battery from filling. Straighten them carefully or replace the connector."),
    ("Move the phone closer", "Distance and walls weaken Bluetooth. Keep the phone within {meters} metres and away from microwaves and routers."),
    ("Forget and pair again", "Remove the {product} from the phone's Bluetooth list, restart both, and pair again from scratch."),
    ("Dry it out", "Switch it off, wipe it, and leave it in a dry warm place for {hours} hours before charging. Never charge a wet port."),
    ("Let it cool down", "Unplug it and let it cool. Charging in direct sun or under a pillow can trip the thermal protection."),
    ("Inspect the solder joints", "Open the case and look at the charging socket's solder joints with a magnifying glass. Re-solder a cracked joint or ask a repair shop."),
    ("Replace the charging board", "If the board feeding the battery has failed, the battery gets no power at all. The only fix is a new charging board."),
    ("Check the volume and source", "Turn the volume up on both the phone and the {product}, and play a track you know works."),
    ("Contact support", "If nothing helps, contact {brand} support with the serial number; the warranty may cover a replacement."),
]
COLORS = ["red", "white", "blue", "green", "orange", "purple"]
PATTERNS = [("solid", "Solid"), ("blinking", "Blinking"), ("pulsing", "Pulsing")]
MEANINGS = ["charging", "fully charged", "battery low", "pairing mode", "connected",
            "updating firmware", "error, restart it", "overheating protection"]
FILLER = ("the a of to and in is it you that for on with as this be at by "
          "from or your have are not can when will if more most some any "
          "usually often also then first after before while every").split()
WORDS = ("device unit battery charge charger cable port socket light button "
         "power sound speaker phone app update reset pair connect signal range "
         "warm cold water dust lint pins board solder repair warranty support "
         "volume track music voice prompt seconds minutes hours metres years "
         "adapter outlet computer laptop wall plug cord connector circuit "
         "capacity cycle age protection case screw rubber feet grip").split()


def model_names(rng, n):
    out, seen = [], set()
    while len(out) < n:
        b = rng.choice(BRANDS)
        line = rng.choice(LINES)
        num = rng.randint(1, 9)
        name = "%s %s %d" % (b, line, num)
        if name in seen:
            continue
        seen.add(name)
        out.append((b, name, "%s %d" % (line, num), rng.choice(PRODUCTS)))
    return out


def sentence(rng, n):
    w = [rng.choice(FILLER if rng.random() < 0.5 else WORDS) for _ in range(n)]
    return w[0].capitalize() + " " + " ".join(w[1:]) + "."


def article(rng, i, models):
    brand, name, short, product = rng.choice(models)
    syms = rng.sample(SYMPTOMS, rng.randint(1, 3))
    generic = rng.random() < 0.25
    title_sym = syms[0][2][0]
    title = ("%s %s" % (product.capitalize(), title_sym) if generic
             else "%s %s" % (name, title_sym))
    parts = ["---", "title: %s" % title]
    parts.append("models: [%s]" % ("" if generic else name))
    parts.append("symptoms: [%s]" % ", ".join(s[0] for s in syms))
    parts.append("---")
    parts.append("%s %s" % (sentence(rng, 14), sentence(rng, 10)))
    ctx = dict(cable=rng.choice(["micro-USB cable", "USB-C cable", "charging cable"]),
               product=product, model=short if not generic else product,
               watt=rng.choice([5, 10, 18]), sec=rng.choice([3, 5, 8, 10]),
               color=rng.choice(COLORS), years=rng.randint(2, 6),
               meters=rng.randint(2, 10), hours=rng.choice([24, 48]), brand=brand)
    for head, body in rng.sample(FIXES, rng.randint(3, 5)):
        parts.append("")
        parts.append("## " + head.format(**ctx))
        parts.append("")
        parts.append(body.format(**ctx) + " " + sentence(rng, rng.randint(12, 30)))
        if rng.random() < 0.5:
            parts.append("")
            for _ in range(rng.randint(2, 4)):
                parts.append("- " + sentence(rng, rng.randint(5, 12)))
    if rng.random() < 0.35:
        parts.append("")
        parts.append("## What the light means")
        parts.append("")
        for c in rng.sample(COLORS, 3):
            p = rng.choice(PATTERNS)
            parts.append("- **%s %s**: %s" % (p[1], c, rng.choice(MEANINGS)))
    parts.append("")
    parts.append("## Still not working?")
    parts.append("")
    parts.append(sentence(rng, rng.randint(20, 40)) + " " + sentence(rng, 15))
    return "\n".join(parts) + "\n", (brand, name, short, product, syms, generic)


def typo(rng, word):
    if len(word) < 5 or any(ch.isdigit() for ch in word):
        return word
    i = rng.randint(1, len(word) - 2)
    kind = rng.randint(0, 2)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i] + word[i:]


def queries(rng, models, metas):
    q = []
    for _ in range(17):
        q.append(("short", rng.choice(WORDS)))
    for _ in range(17):
        q.append(("multi", " ".join(rng.sample(WORDS, rng.randint(2, 4)))))
    for _ in range(17):
        ws = rng.sample([w for w in WORDS if len(w) >= 5], 2)
        q.append(("typo", " ".join(typo(rng, w) for w in ws)))
    for _ in range(16):
        head = rng.choice(FIXES)[0].split("{")[0].strip().lower()
        q.append(("quoted", '"%s"' % head))
    for _ in range(17):
        brand, name, short, product, syms, generic = rng.choice(metas)
        c = rng.choice(COLORS)
        p = rng.choice(PATTERNS)[0]
        s = rng.choice(rng.choice(SYMPTOMS)[2])
        q.append(("led", "%s %s %s %s" % (short.lower(), p, c, s)))
    for _ in range(16):
        brand, name, short, product, syms, generic = rng.choice(metas)
        s = rng.choice(syms)[2]
        body = [rng.choice(["Hello", "Hi team", "Good morning", "Dear support"]) + ","]
        body.append("order %d-%d." % (rng.randint(1000, 9999), rng.randint(10, 99)))
        body.append("I bought my %s %d months ago as a present." % (name, rng.randint(2, 30)))
        for _ in range(rng.randint(4, 9)):
            body.append(sentence(rng, rng.randint(8, 18)))
        body.append("The problem: it %s, and %s." % (rng.choice(s), rng.choice(s)))
        body.append("I already tried a different %s and a reset." % rng.choice(["cable", "charger", "outlet"]))
        for _ in range(rng.randint(3, 7)):
            body.append(sentence(rng, rng.randint(8, 16)))
        body.append("Thanks, %s" % rng.choice(["Sam", "Alex", "Priya", "Jo"]))
        q.append(("long", " ".join(body)))
    return q


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2026
    rng = random.Random(seed)
    models = model_names(rng, min(2000, max(50, n // 20)))
    os.makedirs(os.path.join(out, "articles"), exist_ok=True)
    metas = []
    for i in range(n):
        text, meta = article(rng, i, models)
        metas.append(meta)
        with open(os.path.join(out, "articles", "%06d.md" % i), "w") as f:
            f.write(text)
    tax = {
        "models": [{"id": name.lower().replace(" ", "-"), "brand": b,
                    "name": name, "aliases": [short.lower(), short.lower().replace(" ", "")]}
                   for b, name, short, _ in models],
        "symptoms": [{"id": i, "label": l, "phrases": p} for i, l, p in SYMPTOMS],
        "led": {"colors": [{"id": c, "synonyms": [c]} for c in COLORS],
                "patterns": [{"id": "solid", "synonyms": ["solid", "steady", "constant"]},
                             {"id": "blinking", "synonyms": ["blinking", "flashing", "blinks"]},
                             {"id": "pulsing", "synonyms": ["pulsing", "breathing"]}]},
        "synonyms": [["cable", "cord", "lead"], ["charger", "adapter"],
                     ["port", "socket", "connector"], ["fix", "repair"]],
    }
    # Aliases may collide between brands; keep the first model per alias.
    seen = set()
    for m in tax["models"]:
        m["aliases"] = [a for a in m["aliases"] if not (a in seen or seen.add(a))]
    with open(os.path.join(out, "taxonomy.json"), "w") as f:
        json.dump(tax, f, indent=1)
    with open(os.path.join(out, "queries.tsv"), "w") as f:
        for cls, text in queries(rng, models, metas):
            f.write("%s\t%s\n" % (cls, text))


if __name__ == "__main__":
    main()
